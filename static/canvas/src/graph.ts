// The graph document ↔ React Flow nodes and edges.
import type { Edge, Node, Viewport } from "@xyflow/react";
import { fromHandleId, toHandleId } from "./handles";
import type { GraphDoc, Problem, StepData } from "./types";
import type { DraftFormat } from "./useDraft";

export type StepNode = Node<StepData, "step">;

export function problemsByNode(problems: Problem[]): Map<string, Problem[]> {
  const byNode = new Map<string, Problem[]>();
  for (const problem of problems) {
    if (problem.node === null) continue;
    byNode.set(problem.node, [...(byNode.get(problem.node) ?? []), problem]);
  }
  return byNode;
}

export function toFlow(doc: GraphDoc, problems: Problem[]): { nodes: StepNode[]; edges: Edge[] } {
  const byNode = problemsByNode(problems);
  const nodes: StepNode[] = doc.nodes.map((node, index) => ({
    id: node.id,
    type: "step",
    position: node.position ?? { x: (index % 6) * 260, y: Math.floor(index / 6) * 160 },
    data: {
      type: node.type,
      label: node.label ?? "",
      config: node.config ?? {},
      problems: byNode.get(node.id) ?? [],
    },
  }));
  const edges: Edge[] = doc.edges.map((edge) => toFlowEdge(edge.id, edge.source, edge.target, edge.handle));
  return { nodes, edges };
}

export function toFlowEdge(id: string, source: string, target: string, handle?: string | null): Edge {
  const sourceHandle = toHandleId(handle);
  return {
    id,
    source,
    target,
    sourceHandle,
    targetHandle: "in",
    label: sourceHandle === "out" ? undefined : sourceHandle,
    className: sourceHandle === "error" ? "edge-error" : undefined,
  };
}

export function toDoc(nodes: StepNode[], edges: Edge[], viewport?: Viewport, meta?: Record<string, unknown>): GraphDoc {
  return {
    nodes: nodes.map((node) => {
      const out: GraphDoc["nodes"][number] = {
        id: node.id,
        type: node.data.type,
        config: node.data.config,
        position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
      };
      if (node.data.label) out.label = node.data.label;
      return out;
    }),
    edges: edges.map((edge) => {
      const handle = fromHandleId(edge.sourceHandle);
      return handle === null
        ? { id: edge.id, source: edge.source, target: edge.target }
        : { id: edge.id, source: edge.source, target: edge.target, handle };
    }),
    meta: { ...(meta ?? {}), ...(viewport ? { viewport } : {}) },
  };
}

export function newNodeId(type: string, taken: Set<string>): string {
  const base = (type.split(".").pop() ?? "node").replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[^A-Za-z]+/, "") || "node";
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) if (!taken.has(`${base}${n}`)) return `${base}${n}`;
}

export function newEdgeId(taken: Set<string>): string {
  for (let n = taken.size + 1; ; n += 1) if (!taken.has(`e${n}`)) return `e${n}`;
}

// A workflow's graph as a draft of the canvas.
export function graphFormat(slug: string): DraftFormat<StepNode, GraphDoc> {
  return {
    endpoint: { slug, url: `/api/workflows/${slug}/draft`, field: "graph" },
    toFlow,
    toDoc,
    metaOf: (doc) => ({ ...(doc.meta ?? {}) }),
    edgeProblems: false,
  };
}
