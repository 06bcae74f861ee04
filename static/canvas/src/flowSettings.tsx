// What the workflow and machine canvases' React Flow share: keys that select (deleting is a
// shortcut of the canvas, so that it is one undo step), the grid, and the controls drawn over it.
import { Background, Controls, MiniMap, SelectionMode, type FitViewOptions, type ReactFlowProps } from "@xyflow/react";
import { useEffect, useState } from "react";

export const GRID: [number, number] = [20, 20];

// Fitting takes in every step, also those a large graph has not drawn yet (React Flow's
// "hidden" nodes: the canvas hides none), at their estimated size (stepGeometry.ts).
export const FIT_ALL: FitViewOptions = { padding: 0.15, includeHiddenNodes: true };
// On opening and with the Fit button: a small graph is not magnified past 100 %.
export const FIT_ALL_UNMAGNIFIED: FitViewOptions = { ...FIT_ALL, maxZoom: 1 };

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

// True once the browser has nothing more urgent to do (at the latest after `timeout` ms).
function useIdle(wait: boolean, timeout: number): boolean {
  const [idle, setIdle] = useState(!wait);
  useEffect(() => {
    if (idle) return;
    const handle = window.requestIdleCallback(() => setIdle(true), { timeout });
    return () => window.cancelIdleCallback(handle);
  }, [idle, timeout]);
  return idle;
}

// `deferMinimap`: a large graph's minimap (a box and a store subscription per step) is drawn once
// the steps in view are, instead of delaying them.
export function FlowChrome({ deferMinimap = false }: { deferMinimap?: boolean }) {
  const minimap = useIdle(deferMinimap, 2000);
  return (
    <>
      <Background gap={GRID[0]} />
      <Controls />
      {minimap && <MiniMap pannable zoomable ariaLabel="Minimap" />}
    </>
  );
}
