// Two versions drawn on one canvas: the newer graph, with added, changed and removed nodes coloured.
import type { Edge } from "@xyflow/react";
import { api } from "./api";
import { toFlow, type StepNode } from "./graph";
import type { DiffState, GraphDoc } from "./types";

interface DiffOut {
  nodes: { added: string[]; removed: string[]; changed: { id: string; keys: string[] }[] };
  edges: { added: string[]; removed: string[]; changed: { id: string; keys: string[] }[] };
}

export interface DiffView {
  label: string;
  nodes: StepNode[];
  edges: Edge[];
  counts: Record<DiffState, number>;
}

async function graphAt(slug: string, which: string): Promise<GraphDoc> {
  if (which === "draft") return (await api<{ graph: GraphDoc }>("GET", `/api/workflows/${slug}/draft`)).graph;
  return (await api<{ graph: GraphDoc }>("GET", `/api/workflows/${slug}/versions/${which}`)).graph;
}

export async function diffView(slug: string, from: string, to: string): Promise<DiffView> {
  const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const [changes, older, newer] = await Promise.all([
    api<DiffOut>("GET", `/api/workflows/${slug}/diff?${query}`),
    graphAt(slug, from),
    graphAt(slug, to),
  ]);
  const state = new Map<string, DiffState>();
  for (const id of changes.nodes.added) state.set(id, "added");
  for (const change of changes.nodes.changed) state.set(change.id, "changed");
  const now = toFlow(newer, []);
  const before = toFlow(older, []);
  const removed = new Set(changes.nodes.removed);
  const nodes: StepNode[] = [
    ...now.nodes.map((node) => ({ ...node, draggable: false, data: { ...node.data, diffState: state.get(node.id) } })),
    ...before.nodes
      .filter((node) => removed.has(node.id))
      .map((node) => ({ ...node, draggable: false, data: { ...node.data, diffState: "removed" as const } })),
  ];
  const removedEdges = new Set(changes.edges.removed);
  const addedEdges = new Set([...changes.edges.added, ...changes.edges.changed.map((c) => c.id)]);
  const edges: Edge[] = [
    ...now.edges.map((edge) => (addedEdges.has(edge.id) ? { ...edge, className: "edge-added" } : edge)),
    ...before.edges.filter((edge) => removedEdges.has(edge.id)).map((edge) => ({ ...edge, id: `removed-${edge.id}`, className: "edge-removed" })),
  ];
  const name = (which: string) => (which === "draft" ? "the draft" : `v${which}`);
  return {
    label: `${name(from)} → ${name(to)}`,
    nodes,
    edges,
    counts: { added: changes.nodes.added.length, changed: changes.nodes.changed.length, removed: removed.size },
  };
}
