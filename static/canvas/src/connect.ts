// Whether an edge may be drawn, and why not: the same rules as the server's validation.
import type { Edge } from "@xyflow/react";
import type { StepNode } from "./graph";
import { outputsOf } from "./handles";
import type { NodeTypeInfo } from "./types";

export interface Attempt {
  source: string | null;
  sourceHandle: string | null;
  target: string | null;
}

export function refusal(
  attempt: Attempt,
  nodes: StepNode[],
  edges: Edge[],
  types: Map<string, NodeTypeInfo>,
): string | null {
  const source = nodes.find((node) => node.id === attempt.source);
  const target = nodes.find((node) => node.id === attempt.target);
  if (!source || !target) return "drop the edge on a node";
  if (source.id === target.id) return `an edge cannot lead from '${source.id}' back to itself`;
  const targetType = types.get(target.data.type);
  if (targetType?.is_trigger) return `'${target.id}' is a trigger; no edge may lead into a trigger`;
  const handle = attempt.sourceHandle ?? "out";
  const outputs = outputsOf(types.get(source.data.type), source.data.config);
  if (!outputs.includes(handle)) {
    return `'${source.id}' has no output '${handle}'; its outputs are ${outputs.join(", ")}`;
  }
  const duplicate = edges.some(
    (edge) => edge.source === source.id && edge.target === target.id && (edge.sourceHandle ?? "out") === handle,
  );
  if (duplicate) return `'${source.id}' ${handle === "out" ? "" : `(${handle}) `}already leads to '${target.id}'`;
  return null;
}
