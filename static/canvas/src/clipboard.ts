// Copy and paste of nodes and the edges between them, through localStorage so that a
// selection copied in one workflow pastes into another. A state machine's canvas shares the key
// with a `kind` tag (machineClipboard.ts): neither canvas pastes the other's.
import type { Edge } from "@xyflow/react";
import type { StepNode } from "./graph";

export const KEY = "stepwise:canvas-clipboard";

// Whose selection the clipboard holds: a workflow's nodes (no tag), a machine's states, or nothing.
export function kindCopied(): "workflow" | "machine" | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "null");
    if (!value || typeof value !== "object") return null;
    return value.kind === "machine" ? "machine" : Array.isArray(value.nodes) ? "workflow" : null;
  } catch {
    return null;
  }
}

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
