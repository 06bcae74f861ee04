// Following a run: poll its journal and map each step back to the node it ran.
import { api } from "./api";
import type { RunState } from "./types";

interface StepOut {
  name: string;
  status: string;
  kind: string;
}

export interface RunOut {
  id: number;
  status: string;
  steps: StepOut[];
  error: Record<string, unknown> | null;
}

const TERMINAL = new Set(["completed", "failed", "cancelled", "timed_out"]);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

function stepState(status: string): RunState {
  if (status.includes("fail") || status.includes("error")) return "failed";
  if (status === "completed" || status === "done" || status === "succeeded" || status === "skipped") return "done";
  if (status.includes("wait") || status.includes("sleep") || status.includes("suspend")) return "waiting";
  return "running";
}

// Steps are named by node id; inside loops `send[3]`, and a node's own waits and follow-ups
// `ask:wait`, `pause:sleep`, `ask:remind`. The newest entry decides the colour.
export function nodeStates(run: RunOut): Map<string, RunState> {
  const states = new Map<string, RunState>();
  for (const step of run.steps) {
    const node = step.name.replace(/\[\d+\]/g, "").split(":")[0];
    const state = stepState(step.status);
    const before = states.get(node);
    // Inside a loop one failed or running item colours the node until the loop is over.
    if (before === "failed" || (before === "running" && state === "done")) continue;
    states.set(node, state);
  }
  return states;
}

export async function startRun(slug: string, input: unknown): Promise<RunOut> {
  return api<RunOut>("POST", `/api/workflows/${slug}/runs`, { input });
}

export async function fetchRun(id: number): Promise<RunOut> {
  return api<RunOut>("GET", `/api/runs/${id}`);
}

// The run's WebSocket through static/js/live.js (loaded by every page): each burst of messages
// means "it changed", and the caller reads the run over HTTP. Without it, polling still works.
interface LiveFollower {
  stop(): void;
}

declare global {
  interface Window {
    stepwiseLive?: { follow(path: string, changed: (quiet: boolean) => void): LiveFollower };
  }
}

export function followRun(id: number, changed: () => void): () => void {
  const following = window.stepwiseLive?.follow(`/ws/runs/${id}/`, changed);
  return () => following?.stop();
}
