// What the workflow and machine canvases' React Flow share: keys that select (deleting is a
// shortcut of the canvas, so that it is one undo step), the grid, and the controls drawn over it.
import { Background, Controls, MiniMap, SelectionMode, type ReactFlowProps } from "@xyflow/react";

export const GRID: [number, number] = [20, 20];

export const EDITING_PROPS: Pick<
  ReactFlowProps,
  "deleteKeyCode" | "selectionKeyCode" | "multiSelectionKeyCode" | "selectionMode" | "snapGrid" | "minZoom" | "proOptions"
> = {
  deleteKeyCode: null,
  selectionKeyCode: "Shift",
  multiSelectionKeyCode: ["Shift", "Meta", "Control"],
  selectionMode: SelectionMode.Partial,
  snapGrid: GRID,
  minZoom: 0.1,
  proOptions: { hideAttribution: true },
};

export function FlowChrome() {
  return (
    <>
      <Background gap={GRID[0]} />
      <Controls />
      <MiniMap pannable zoomable ariaLabel="Minimap" />
    </>
  );
}
