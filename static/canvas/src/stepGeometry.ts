// Sizes and handle positions of step nodes React Flow has not drawn yet, estimated from their
// outputs. React Flow draws every node it has no handle positions for, even one
// onlyRenderVisibleElements would skip, only to measure it: on a 1,000-step graph that is every
// node at load, then all but the few in view unmounted again. With an estimate it draws only the
// nodes in view; each is measured for real when it first comes into view, and until then the
// estimate places the far ends of edges, the minimap's box and what Fit takes in.
import { Position, type NodeHandle } from "@xyflow/react";
import { useMemo, useRef } from "react";
import type { StepNode } from "./graph";
import { outputsOf } from "./handles";
import type { NodeTypeInfo, StepData } from "./types";

// From .step-node and its parts in stepwise.css (measured in Chromium: a node with two outputs is
// 180 × 79 px). A wrong estimate is harmless: it only lasts until the node is first drawn.
const MIN_WIDTH = 180;
const MAX_WIDTH = 240;
const HEIGHT_WITHOUT_OUTPUTS = 47;
export const OUTPUT_ROW = 16;
// From the node's bottom edge to the top of its last output's handle.
const LAST_HANDLE_FROM_BOTTOM = 14;
const HANDLE = 6;
// Rough widths of a character in the title (12 px, bold) and the id line (11 px), and what
// surrounds the text: the icon, gaps, padding and borders.
const TITLE_CHAR = 7;
const SUB_CHAR = 6.3;
const TITLE_CHROME = 48;
const SUB_CHROME = 28;

export interface Geometry {
  initialWidth: number;
  initialHeight: number;
  handles: NodeHandle[];
}

export function estimateGeometry(id: string, data: StepData, info: NodeTypeInfo | undefined): Geometry {
  const title = info?.title ?? data.type;
  const textWidth = Math.max(
    (data.label || title).length * TITLE_CHAR + TITLE_CHROME,
    (id.length + 3 + title.length) * SUB_CHAR + SUB_CHROME,
  );
  const width = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, textWidth)));
  const outputs = outputsOf(info, data.config);
  const height = HEIGHT_WITHOUT_OUTPUTS + OUTPUT_ROW * outputs.length;
  const handles: NodeHandle[] = outputs.map((id, index) => ({
    id,
    type: "source",
    position: Position.Right,
    x: width - HANDLE / 2 - 1,
    y: height - LAST_HANDLE_FROM_BOTTOM - OUTPUT_ROW * (outputs.length - 1 - index),
    width: HANDLE,
    height: HANDLE,
  }));
  if (!info?.is_trigger) {
    handles.push({ id: "in", type: "target", position: Position.Left, x: -HANDLE / 2, y: (height - HANDLE) / 2, width: HANDLE, height: HANDLE });
  }
  return { initialWidth: width, initialHeight: height, handles };
}

// The nodes to give React Flow: those it has never measured carry an estimate. A node it has
// measured once never gets one again: were an undo to bring back an estimated copy of a node on
// screen, React Flow would take the estimate as measured and not look at the node again.
export function useEstimatedNodes(nodes: StepNode[], types: Map<string, NodeTypeInfo>, enabled: boolean): StepNode[] {
  const measured = useRef(new Set<string>()).current;
  const estimates = useRef(new WeakMap<StepNode, StepNode>()).current;
  return useMemo(() => {
    if (!enabled) return nodes;
    return nodes.map((node) => {
      if (node.measured?.width) measured.add(node.id);
      if (measured.has(node.id)) return node;
      // The same copy for the same node, so React Flow sees an unchanged node as unchanged.
      let estimated = estimates.get(node);
      if (!estimated) {
        estimated = { ...node, ...estimateGeometry(node.id, node.data, types.get(node.data.type)) };
        estimates.set(node, estimated);
      }
      return estimated;
    });
  }, [enabled, estimates, measured, nodes, types]);
}
