// Edits of a machine that touch more than one state or transition: renaming a state, moving it
// into or out of a compound state, choosing where the machine starts.
import type { Edge } from "@xyflow/react";
import { absolutePosition, arrange, STATE_ID, type StateNode } from "./machine";

export interface MachineSnapshot {
  nodes: StateNode[];
  edges: Edge[];
}

// Every reference follows: children's parent, a compound state's initial, transitions' ends.
export function renameState({ nodes, edges }: MachineSnapshot, from: string, to: string): MachineSnapshot | string {
  if (!STATE_ID.test(to)) return "a state id is a name: letters, digits, _ -";
  if (to !== from && (nodes.some((node) => node.id === to) || edges.some((edge) => edge.id === to))) return `the id '${to}' is taken`;
  const swap = (id: string | undefined) => (id === from ? to : id);
  return {
    nodes: nodes.map((node) => ({
      ...node,
      id: node.id === from ? to : node.id,
      ...(node.parentId ? { parentId: swap(node.parentId) } : {}),
      data: { ...node.data, initial: swap(node.data.initial) ?? "" },
    })),
    edges: edges.map((edge) => ({ ...edge, source: swap(edge.source) ?? "", target: swap(edge.target) ?? "" })),
  };
}

// The states `id` may move into: any but itself and the states inside it.
export function possibleParents(nodes: StateNode[], id: string): StateNode[] {
  const inside = new Set([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const node of nodes) {
      if (node.parentId && inside.has(node.parentId) && !inside.has(node.id)) {
        inside.add(node.id);
        grew = true;
      }
    }
  }
  return nodes.filter((node) => !inside.has(node.id) && !node.data.final);
}

// Moves the state without moving it on screen; the first child of a compound state is the one
// it enters until another is chosen.
export function moveInto(nodes: StateNode[], id: string, parent: string | null): StateNode[] {
  const node = nodes.find((item) => item.id === id);
  if (!node || (node.parentId ?? null) === parent) return nodes;
  const here = absolutePosition(node, nodes);
  const host = parent ? nodes.find((item) => item.id === parent) : undefined;
  const origin = host ? absolutePosition(host, nodes) : { x: 0, y: 0 };
  const position = { x: Math.max(20, here.x - origin.x), y: Math.max(50, here.y - origin.y) };
  const moved = nodes.map((item) => {
    if (item.id === id) {
      const { parentId: _old, expandParent: _expand, ...rest } = item;
      return parent ? { ...rest, parentId: parent, position } : { ...rest, position: here };
    }
    if (item.id === node.parentId && item.data.initial === id) return { ...item, data: { ...item.data, initial: "" } };
    if (item.id === parent && !item.data.initial) return { ...item, data: { ...item.data, initial: id } };
    return item;
  });
  return arrange(moved);
}

// The machine starts in `id` (a top-level state), and only there.
export function startIn(nodes: StateNode[], id: string): StateNode[] {
  return arrange(nodes.map((node) => (node.data.start === (node.id === id) ? node : { ...node, data: { ...node.data, start: node.id === id } })));
}

// After any edit: a compound state whose first child is gone enters none until one is chosen,
// and the drawing's derived parts are brought up to date.
export function tidy(nodes: StateNode[]): StateNode[] {
  const children = new Map<string, Set<string>>();
  for (const node of nodes) if (node.parentId) children.set(node.parentId, (children.get(node.parentId) ?? new Set()).add(node.id));
  return arrange(
    nodes.map((node) =>
      node.data.initial && !children.get(node.id)?.has(node.data.initial) ? { ...node, data: { ...node.data, initial: "" } } : node,
    ),
  );
}
