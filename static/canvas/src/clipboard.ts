// Copy and paste of nodes and the edges between them, through localStorage so that a
// selection copied in one workflow pastes into another.
import type { Edge } from "@xyflow/react";
import type { StepNode } from "./graph";

const KEY = "stepwise:canvas-clipboard";

export function copy(nodes: StepNode[], edges: Edge[]): number {
  const chosen = nodes.filter((node) => node.selected);
  const ids = new Set(chosen.map((node) => node.id));
  const inside = edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
  localStorage.setItem(KEY, JSON.stringify({ nodes: chosen, edges: inside }));
  return chosen.length;
}

export function read(): { nodes: StepNode[]; edges: Edge[] } | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "null");
    return value && Array.isArray(value.nodes) ? value : null;
  } catch {
    return null;
  }
}
