// Following a run: poll its journal and map each step back to the node it ran.
import { api } from "./api";
import type { RunState } from "./types";

// Every status the server sends for a run (RunStatus in engine/models.py): true for the final ones.
const RUN_IS_FINAL = {
  scheduled: false,
  pending: false,
  running: false,
  waiting: false,
  paused: false,
  cancelling: false,
  completed: true,
  failed: true,
  cancelled: true,
  timed_out: true,
} as const satisfies Record<string, boolean>;

// Every status the server sends for a journal entry (the core's EntryStatus, and `queued` and
// `dispatched` for parallel steps waiting for or holding a worker), and the colour it gives.
const STEP_STATES = {
  completed: "done",
  failed: "failed",
  retrying: "running",
  waiting: "waiting",
  cancelled: "cancelled", // a step a cancel stopped: grey, neither running nor waiting
  queued: "running",
  dispatched: "running",
} as const satisfies Record<string, RunState>;

export type RunStatus = keyof typeof RUN_IS_FINAL;
export type StepStatus = keyof typeof STEP_STATES;

interface StepOut {
  name: string;
  status: StepStatus;
  kind: string;
}

export interface RunOut {
  id: number;
  status: RunStatus;
  steps: StepOut[];
  error: Record<string, unknown> | null;
}

// Every journal row's state without its data (GET /api/runs/<id> pages its journal).
export interface RunStepStates {
  id: number;
  status: RunStatus;
  steps: StepOut[];
}

export function isTerminal(status: RunStatus): boolean {
  return RUN_IS_FINAL[status] ?? false;
}

// A status from a newer server than this bundle shows as running rather than breaking the overlay.
function stepState(status: StepStatus): RunState {
  return STEP_STATES[status] ?? "running";
}

// Steps are named by node id; inside loops `send[3]`, and a node's own waits and follow-ups
// `ask:wait`, `pause:sleep`, `ask:remind`. The newest entry decides the colour.
export function nodeStates(run: RunStepStates): Map<string, RunState> {
  const states = new Map<string, RunState>();
  // A run that is over waits on nothing and runs nothing: what it left open was stopped.
  const over = isTerminal(run.status);
  for (const step of run.steps) {
    const node = step.name.replace(/\[\d+\]/g, "").split(":")[0];
    const raw = stepState(step.status);
    const state = over && (raw === "waiting" || raw === "running") ? "cancelled" : raw;
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

export async function fetchStepStates(id: number): Promise<RunStepStates> {
  return api<RunStepStates>("GET", `/api/runs/${id}/step-states`);
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
