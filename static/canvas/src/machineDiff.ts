// Two versions of a machine drawn on one canvas: the newer one's states and transitions, with the
// older one's removed states and transitions drawn where they were, each coloured by its change.
import type { Edge } from "@xyflow/react";
import { api } from "./api";
import { toFlow, type MachineDoc, type StateNode, type StateRow, type TransitionData, type TransitionRow } from "./machine";
import type { DiffState } from "./types";

// GET /api/machines/{slug}/diff (designer/machine_diff.py).
interface RowChanges {
  added: string[];
  removed: string[];
  changed: { id: string; keys: string[] }[];
}

export interface MachineChanges {
  machine: string[];
  states: RowChanges;
  transitions: RowChanges;
}

export interface MachineDiffView {
  label: string;
  nodes: StateNode[];
  edges: Edge[];
  // States and transitions together: both are drawn coloured.
  counts: Record<DiffState, number>;
}

// The canvas keeps its viewport under `meta`: a view, not a change worth naming.
const UNNAMED_MACHINE_KEYS = new Set(["meta"]);

async function definitionAt(slug: string, which: string): Promise<MachineDoc> {
  const base = `/api/machines/${encodeURIComponent(slug)}`;
  const url = which === "draft" ? `${base}/draft` : `${base}/versions/${encodeURIComponent(which)}`;
  return (await api<{ definition: MachineDoc }>("GET", url)).definition;
}

function marks(changes: RowChanges): Map<string, { state: DiffState; keys: string[] }> {
  const marked = new Map<string, { state: DiffState; keys: string[] }>();
  for (const id of changes.added) marked.set(id, { state: "added", keys: [] });
  for (const id of changes.removed) marked.set(id, { state: "removed", keys: [] });
  for (const change of changes.changed) marked.set(change.id, { state: "changed", keys: change.keys });
  return marked;
}

const rowsOf = <T,>(rows: unknown): T[] => (Array.isArray(rows) ? (rows as T[]) : []);

// The drawing of a comparison: `newer` plus what `older` had and `newer` lost, marked.
export function drawDiff(older: MachineDoc, newer: MachineDoc, changes: MachineChanges): { nodes: StateNode[]; edges: Edge[] } {
  const removedStates = new Set(changes.states.removed);
  const removedTransitions = new Set(changes.transitions.removed);
  const states = [...rowsOf<StateRow>(newer.states), ...rowsOf<StateRow>(older.states).filter((row) => removedStates.has(row.id))];
  const transitions = [
    ...rowsOf<TransitionRow>(newer.transitions),
    ...rowsOf<TransitionRow>(older.transitions).filter((row) => removedTransitions.has(row.id)),
  ];
  // Nothing is edited while comparing: no problems drawn, nothing dragged or connected.
  const drawn = toFlow({ ...newer, states, transitions }, []);
  const stateMarks = marks(changes.states);
  const transitionMarks = marks(changes.transitions);
  const nodes = drawn.nodes.map((node) => {
    const mark = stateMarks.get(node.id);
    return { ...node, draggable: false, connectable: false, data: { ...node.data, diffState: mark?.state, diffKeys: mark?.keys } };
  });
  const edges = drawn.edges.map((edge) => {
    const mark = transitionMarks.get(edge.id);
    return { ...edge, data: { ...(edge.data as TransitionData), diffState: mark?.state, diffKeys: mark?.keys } };
  });
  return { nodes, edges };
}

// How a state or transition changed, in words: "changed: guard, actions".
export function diffText(state: DiffState | undefined, keys: string[] | undefined): string {
  if (!state) return "";
  return state === "changed" && keys?.length ? `changed: ${keys.join(", ")}` : state;
}

export function diffLabel(from: string, to: string, changes: MachineChanges): string {
  const name = (which: string) => (which === "draft" ? "the draft" : `v${which}`);
  const machine = changes.machine.filter((key) => !UNNAMED_MACHINE_KEYS.has(key));
  return `${name(from)} → ${name(to)}${machine.length ? ` (the machine's ${machine.join(", ")} changed)` : ""}`;
}

export async function machineDiffView(slug: string, from: string, to: string): Promise<MachineDiffView> {
  const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const [changes, older, newer] = await Promise.all([
    api<MachineChanges>("GET", `/api/machines/${encodeURIComponent(slug)}/diff?${query}`),
    definitionAt(slug, from),
    definitionAt(slug, to),
  ]);
  const count = (pick: (rows: RowChanges) => number) => pick(changes.states) + pick(changes.transitions);
  return {
    label: diffLabel(from, to, changes),
    ...drawDiff(older, newer, changes),
    counts: {
      added: count((rows) => rows.added.length),
      changed: count((rows) => rows.changed.length),
      removed: count((rows) => rows.removed.length),
    },
  };
}
