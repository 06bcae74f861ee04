// Copy, paste and duplicate of a machine's states with the transitions between them. The copy is
// kept as definition rows under the workflow canvas's clipboard key, tagged `kind: "machine"`,
// so that another machine's canvas pastes it and a workflow's canvas refuses it (and back).
import type { Edge } from "@xyflow/react";
import { KEY, kindCopied } from "./clipboard";
import {
  absolutePosition,
  kindOf,
  newId,
  STATE_ID,
  STATE_SIZE,
  stateRow,
  toFlow,
  transitionId,
  transitionRow,
  type MachineAction,
  type StateNode,
  type StateRow,
  type TransitionRow,
} from "./machine";
import type { MachineSnapshot } from "./machineEdits";

export interface CopiedStates {
  kind: "machine";
  states: StateRow[];
  transitions: TransitionRow[];
}

// More at once would freeze the page for a paste nobody meant.
export const PASTE_LIMIT = 500;
// A pasted copy moves from the original in steps of this much, down and right, until it covers no
// state: a state hidden under another is a lost state.
const OFFSET = 40;
const MARGIN = 20;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const boxOf = (node: StateNode): Box => ({
  ...node.position,
  width: node.width ?? node.measured?.width ?? STATE_SIZE.width,
  height: node.height ?? node.measured?.height ?? STATE_SIZE.height,
});
const apart = (a: Box, b: Box) =>
  a.x + a.width + MARGIN <= b.x || b.x + b.width + MARGIN <= a.x || a.y + a.height + MARGIN <= b.y || b.y + b.height + MARGIN <= a.y;

// How far to move the pasted top-level states so that none covers a state already there.
function freeShift(pasted: Box[], present: Box[]): number {
  for (let step = 1; step <= 100; step += 1) {
    const shift = step * OFFSET;
    if (pasted.every((box) => present.every((other) => apart({ ...box, x: box.x + shift, y: box.y + shift }, other)))) return shift;
  }
  return OFFSET;
}

// The chosen states and every state inside them, with the transitions between those states.
export function copiedStates(nodes: StateNode[], edges: Edge[], chosen: Set<string>): CopiedStates {
  const inside = new Set(chosen);
  for (let grew = inside.size > 0; grew; ) {
    const children = nodes.filter((node) => node.parentId && inside.has(node.parentId) && !inside.has(node.id));
    children.forEach((node) => inside.add(node.id));
    grew = children.length > 0;
  }
  const states = nodes
    .filter((node) => inside.has(node.id))
    .map((node) => {
      const row = stateRow(node);
      if (!node.parentId || inside.has(node.parentId)) return row;
      // Its parent stays behind: the copy stands on its own where the state was on screen.
      const { parent: _left, ...alone } = row;
      const at = absolutePosition(node, nodes);
      return { ...alone, position: { x: Math.round(at.x), y: Math.round(at.y) } };
    });
  const transitions = edges.filter((edge) => inside.has(edge.source) && inside.has(edge.target)).map(transitionRow);
  // A deep copy: the pasted states share no action or config object with the originals.
  return JSON.parse(JSON.stringify({ kind: "machine", states, transitions })) as CopiedStates;
}

// The snapshot with the copied states and transitions added under fresh ids, the pasted states
// selected; their actions and guards are kept as they were.
export function pasteStates({ nodes, edges }: MachineSnapshot, copied: CopiedStates): MachineSnapshot {
  const taken = new Set([...nodes.map((node) => node.id), ...edges.map((edge) => edge.id)]);
  const renamed = new Map<string, string>();
  for (const row of copied.states) {
    const id = newId(row.id, taken);
    taken.add(id);
    renamed.set(row.id, id);
  }
  const states = copied.states.map((row): StateRow => {
    const parent = row.parent ? renamed.get(row.parent) : undefined;
    return {
      ...row,
      id: renamed.get(row.id) ?? row.id,
      parent: parent ?? null,
      initial: row.initial ? (renamed.get(row.initial) ?? null) : null,
      position: row.position ?? { x: 0, y: 0 },
    };
  });
  const transitions = copied.transitions.flatMap((row): TransitionRow[] => {
    const source = renamed.get(row.source);
    const target = renamed.get(row.target);
    if (!source || !target) return [];
    const id = transitionId(source, kindOf(row), taken);
    taken.add(id);
    return [{ ...row, id, source, target }];
  });
  // Pasted into an empty machine, the first pasted state is where it starts, as a first added one.
  const started = nodes.some((node) => node.data.start && !node.parentId);
  const initial = started ? "" : (states.find((row) => !row.parent)?.id ?? "");
  const pasted = toFlow({ initial, states, transitions }, []);
  // A child keeps its place in its (pasted) parent; the rest move beside the originals.
  const shift = freeShift(
    pasted.nodes.filter((node) => !node.parentId).map(boxOf),
    nodes.filter((node) => !node.parentId).map(boxOf),
  );
  for (const node of pasted.nodes) if (!node.parentId) node.position = { x: node.position.x + shift, y: node.position.y + shift };
  return {
    nodes: [
      ...nodes.map((node) => (node.selected ? { ...node, selected: false } : node)),
      ...pasted.nodes.map((node) => ({ ...node, selected: true })),
    ],
    edges: [...edges.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)), ...pasted.edges],
  };
}

export function writeClipboard(copied: CopiedStates): void {
  localStorage.setItem(KEY, JSON.stringify(copied));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

// What would break the drawing (not what the server checks: it validates the saved draft).
const pointOr = (value: unknown) =>
  isObject(value) && Number.isFinite(value.x) && Number.isFinite(value.y) ? { x: value.x as number, y: value.y as number } : undefined;
const actionsOr = (value: unknown): MachineAction[] | undefined =>
  Array.isArray(value) ? value.filter((action): action is MachineAction => isObject(action) && typeof action.type === "string") : undefined;

// What the clipboard holds for a machine, or why it cannot be pasted here. The text is the
// user's own, but it is read as untrusted: rows without a usable id are left out.
export function readClipboard(): CopiedStates | string {
  const kind = kindCopied();
  if (kind === "workflow") return "Not pasted: steps copied from a workflow paste only into a workflow.";
  if (kind !== "machine") return "Nothing to paste: select states and copy them first (Ctrl+C).";
  let value: unknown;
  try {
    value = JSON.parse(localStorage.getItem(KEY) ?? "null");
  } catch {
    return "Nothing to paste: the copied states could not be read.";
  }
  if (!isObject(value) || !Array.isArray(value.states)) return "Nothing to paste: the copied states could not be read.";
  const seen = new Set<string>();
  const states = value.states
    .filter((row): row is StateRow => isObject(row) && typeof row.id === "string" && STATE_ID.test(row.id))
    .filter((row) => !seen.has(row.id) && Boolean(seen.add(row.id)))
    .map((row) => ({ ...row, position: pointOr(row.position), entry: actionsOr(row.entry), exit: actionsOr(row.exit) }));
  const ids = new Set(states.map((row) => row.id));
  const transitions = (Array.isArray(value.transitions) ? value.transitions : [])
    .filter((row): row is TransitionRow => isObject(row) && typeof row.id === "string" && ids.has(row.source as string) && ids.has(row.target as string))
    .map((row) => ({ ...row, actions: actionsOr(row.actions) }));
  if (!states.length) return "Nothing to paste: select states and copy them first (Ctrl+C).";
  if (states.length > PASTE_LIMIT) return `Not pasted: ${states.length} states; at most ${PASTE_LIMIT} paste at once.`;
  return { kind: "machine", states, transitions };
}
