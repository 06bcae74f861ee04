// A state machine's document ↔ React Flow: states are nodes (a state with children is a group
// node, its children placed relative to it through `parentId`), transitions are edges.
import { MarkerType, type Edge, type Node, type Viewport } from "@xyflow/react";
import type { DiffState, Problem } from "./types";
import type { DraftFormat } from "./useDraft";

export interface MachineAction {
  type: string;
  config: Record<string, unknown>;
}

export interface StateRow {
  id: string;
  label?: string;
  parent?: string | null;
  initial?: string | null;
  final?: boolean;
  entry?: MachineAction[];
  exit?: MachineAction[];
  // Relative to the parent state, as React Flow places a child.
  position?: { x: number; y: number };
  [other: string]: unknown;
}

export interface TransitionRow {
  id: string;
  source: string;
  target: string;
  event?: string;
  after?: string | number;
  always?: boolean;
  guard?: string;
  actions?: MachineAction[];
  [other: string]: unknown;
}

export interface MachineDoc {
  initial: string;
  states: StateRow[];
  transitions: TransitionRow[];
  [other: string]: unknown;
}

export interface StateData extends Record<string, unknown> {
  label: string;
  final: boolean;
  // The machine starts here (a top-level state).
  start: boolean;
  // A compound state's child entered first.
  initial: string;
  entry: MachineAction[];
  exit: MachineAction[];
  problems: Problem[];
  // Keys of the row the canvas does not edit, written back as they came.
  extra: Record<string, unknown>;
  // Drawn, not stored: entered first among its siblings (the machine's start or its parent's initial).
  entered?: boolean;
  // Drawn, not stored: how many instances are in this state now; the watched instance is here.
  here?: number;
  active?: boolean;
  // Drawn while two versions are compared: how the state changed, and which of its keys.
  diffState?: DiffState;
  diffKeys?: string[];
}

export type TriggerKind = "event" | "after" | "always";

export interface TransitionData extends Record<string, unknown> {
  kind: TriggerKind;
  // The event's name or the delay ("30d"); empty for `always`.
  value: string;
  guard: string;
  actions: MachineAction[];
  problems: Problem[];
  extra: Record<string, unknown>;
  diffState?: DiffState;
  diffKeys?: string[];
}

export type StateNode = Node<StateData, "state" | "compound">;
export type TransitionEdge = Edge<TransitionData, "transition">;

// The engine's rule for state ids (engine.core.machines.STATE_ID).
export const STATE_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const STATE_SIZE = { width: 180, height: 64 };
// Room inside a compound state: its title above the children, a margin around them.
const GROUP_PAD = { top: 50, side: 20, bottom: 20 };
const GROUP_MIN = { width: 240, height: 140 };

export function triggerText(data: Pick<TransitionData, "kind" | "value">): string {
  if (data.kind === "always") return "always";
  if (data.kind === "after") return `after ${data.value || "?"}`;
  return data.value || "?";
}

// --- reading a document ------------------------------------------------------------------------
function stateNode(row: StateRow, index: number, doc: MachineDoc, byNode: Map<string, Problem[]>): StateNode {
  const { id, label, parent, initial, final, entry, exit, position, ...extra } = row;
  return {
    id,
    type: "state",
    position: position ?? { x: 40 + (index % 5) * 240, y: 40 + Math.floor(index / 5) * 160 },
    ...(parent ? { parentId: parent } : {}),
    data: {
      label: label ?? "",
      final: Boolean(final),
      start: doc.initial === id,
      initial: initial ?? "",
      entry: entry ?? [],
      exit: exit ?? [],
      problems: byNode.get(id) ?? [],
      extra,
    },
  };
}

export function kindOf(row: TransitionRow): { kind: TriggerKind; value: string } {
  if (row.always) return { kind: "always", value: "" };
  if (row.after !== undefined && row.after !== null && row.after !== "") return { kind: "after", value: String(row.after) };
  return { kind: "event", value: row.event ?? "" };
}

export function transitionEdge(id: string, source: string, target: string, data: Pick<TransitionData, "kind" | "value" | "guard" | "actions" | "extra">, problems: Problem[] = []): TransitionEdge {
  return {
    id,
    source,
    target,
    sourceHandle: "out",
    targetHandle: "in",
    type: "transition",
    markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    data: { ...data, problems },
  };
}

export function toFlow(doc: MachineDoc, problems: Problem[]): { nodes: StateNode[]; edges: Edge[] } {
  const byNode = new Map<string, Problem[]>();
  for (const problem of problems) {
    if (problem.node !== null) byNode.set(problem.node, [...(byNode.get(problem.node) ?? []), problem]);
  }
  const states = Array.isArray(doc.states) ? doc.states : [];
  const ids = new Set(states.map((row) => row.id));
  // A parent that does not exist would make React Flow throw: the state is drawn at the top.
  const rows = states.map((row) => (row.parent && !ids.has(row.parent) ? { ...row, parent: null } : row));
  const nodes = arrange(rows.map((row, index) => stateNode(row, index, doc, byNode)));
  const edges = (Array.isArray(doc.transitions) ? doc.transitions : [])
    .filter((row) => ids.has(row.source) && ids.has(row.target))
    .map((row) => {
      const { id, source, target, event, after, always, guard, actions, ...extra } = row;
      return transitionEdge(
        id,
        source,
        target,
        { ...kindOf(row), guard: guard ?? "", actions: actions ?? [], extra },
        byNode.get(id) ?? [],
      );
    });
  return { nodes, edges };
}

// --- writing a document ------------------------------------------------------------------------
export function stateRow(node: StateNode): StateRow {
  const { data } = node;
  const row: StateRow = { ...data.extra, id: node.id };
  if (data.label) row.label = data.label;
  if (node.parentId) row.parent = node.parentId;
  if (node.type === "compound" && data.initial) row.initial = data.initial;
  if (data.final) row.final = true;
  if (data.entry.length) row.entry = data.entry;
  if (data.exit.length) row.exit = data.exit;
  row.position = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
  return row;
}

export function transitionRow(edge: Edge): TransitionRow {
  const data = edge.data as TransitionData;
  const row: TransitionRow = { ...data.extra, id: edge.id, source: edge.source, target: edge.target };
  if (data.kind === "always") row.always = true;
  else if (data.kind === "after") row.after = data.value;
  else row.event = data.value;
  if (data.guard) row.guard = data.guard;
  if (data.actions.length) row.actions = data.actions;
  return row;
}

export function toDoc(nodes: StateNode[], edges: Edge[], viewport: Viewport, rest: Record<string, unknown>): MachineDoc {
  const meta = (rest.meta && typeof rest.meta === "object" ? rest.meta : {}) as Record<string, unknown>;
  return {
    ...rest,
    initial: nodes.find((node) => node.data.start && !node.parentId)?.id ?? "",
    states: nodes.map(stateRow),
    transitions: edges.map(transitionRow),
    meta: { ...meta, viewport },
  };
}

export function machineFormat(slug: string): DraftFormat<StateNode, MachineDoc> {
  return {
    endpoint: { slug, url: `/api/machines/${slug}/draft`, field: "definition" },
    toFlow,
    toDoc,
    metaOf: ({ initial, states, transitions, ...rest }) => rest,
    edgeProblems: true,
  };
}

// --- the drawing's derived parts -----------------------------------------------------------------
function depthOf(node: StateNode, byId: Map<string, StateNode>): number {
  let depth = 0;
  for (let at = node.parentId; at && depth < 64; at = byId.get(at)?.parentId) depth += 1;
  return depth;
}

// States ordered parents first (React Flow needs it), typed `compound` when they have children,
// compound states sized around their children, and the first state of each level marked.
export function arrange(nodes: StateNode[]): StateNode[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const children = new Map<string, StateNode[]>();
  for (const node of nodes) if (node.parentId) children.set(node.parentId, [...(children.get(node.parentId) ?? []), node]);
  const depth = new Map(nodes.map((node) => [node.id, depthOf(node, byId)]));
  const sizes = new Map<string, { width: number; height: number }>();
  const sizeOf = (node: StateNode) => sizes.get(node.id) ?? { width: node.measured?.width ?? STATE_SIZE.width, height: node.measured?.height ?? STATE_SIZE.height };
  // Deepest first: a compound state's size depends on its compound children's.
  for (const node of [...nodes].sort((a, b) => (depth.get(b.id) ?? 0) - (depth.get(a.id) ?? 0))) {
    const inside = children.get(node.id);
    if (!inside) continue;
    let width = GROUP_MIN.width;
    let height = GROUP_MIN.height;
    for (const child of inside) {
      const size = sizeOf(child);
      width = Math.max(width, child.position.x + size.width + GROUP_PAD.side);
      height = Math.max(height, child.position.y + size.height + GROUP_PAD.bottom);
    }
    sizes.set(node.id, { width, height });
  }
  const ordered = [...nodes].sort((a, b) => (depth.get(a.id) ?? 0) - (depth.get(b.id) ?? 0));
  return ordered.map((node) => {
    const size = sizes.get(node.id);
    const parent = node.parentId ? byId.get(node.parentId) : undefined;
    const entered = parent ? parent.data.initial === node.id : node.data.start;
    const next: StateNode = { ...node, type: size ? "compound" : "state", data: { ...node.data, entered } };
    if (size) {
      next.width = size.width;
      next.height = size.height;
    } else {
      delete next.width;
      delete next.height;
    }
    if (node.parentId) next.expandParent = true;
    return next;
  });
}

// A state's position on the canvas, whatever it is inside.
export function absolutePosition(node: StateNode, nodes: StateNode[]): { x: number; y: number } {
  let { x, y } = node.position;
  const byId = new Map(nodes.map((item) => [item.id, item]));
  for (let parent = node.parentId ? byId.get(node.parentId) : undefined; parent; parent = parent.parentId ? byId.get(parent.parentId) : undefined) {
    x += parent.position.x;
    y += parent.position.y;
  }
  return { x, y };
}

export function newId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[^A-Za-z_]+/, "").slice(0, 60) || "state";
  if (!taken.has(clean)) return clean;
  // The number is never cut off: an id stays within STATE_ID's 64 characters however long.
  for (let n = 2; ; n += 1) {
    const suffix = String(n);
    const id = `${clean.slice(0, 64 - suffix.length)}${suffix}`;
    if (!taken.has(id)) return id;
  }
}

export function transitionId(source: string, data: Pick<TransitionData, "kind" | "value">, taken: Set<string>): string {
  const word = data.kind === "event" ? data.value : data.kind;
  return newId(`${source}-${word}`, taken);
}
