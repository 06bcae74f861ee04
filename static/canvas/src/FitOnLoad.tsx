// Fits a large graph into view as soon as the canvas knows its own size, from the steps' estimated
// sizes (stepGeometry.ts). React Flow's own fitView waits until a first step is measured, so the
// steps in view at the unfitted viewport would be drawn and measured only to be replaced by those
// in view once fitted; the canvas opens looking past the graph (beyondTheGraph) so that none is.
import { getNodesBounds, getViewportForBounds, useReactFlow, useStore, useStoreApi, type Node, type Viewport } from "@xyflow/react";
import { useLayoutEffect, useRef } from "react";
import { EDITING_PROPS, FIT_ALL_UNMAGNIFIED } from "./flowSettings";

// A viewport that shows no step, zoomed out as far as fitting a large graph goes: to the right of
// all of them.
export function beyondTheGraph(nodes: Node[]): Viewport {
  const bounds = getNodesBounds(nodes);
  const zoom = EDITING_PROPS.minZoom ?? 0.1;
  return { x: -(bounds.x + bounds.width + 1000) * zoom, y: -bounds.y * zoom, zoom };
}

export default function FitOnLoad() {
  const store = useStoreApi();
  const flow = useReactFlow();
  const sized = useStore((state) => state.width > 0 && state.height > 0);
  const done = useRef(false);
  // A layout effect: the fitted viewport replaces the unfitted one before the browser measures
  // (or paints) the steps drawn at it.
  useLayoutEffect(() => {
    if (!sized || done.current) return;
    done.current = true;
    const { nodeLookup, width, height, minZoom, maxZoom } = store.getState();
    const bounds = getNodesBounds([...nodeLookup.keys()], { nodeLookup });
    const { padding = 0.1, maxZoom: closest = maxZoom } = FIT_ALL_UNMAGNIFIED;
    void flow.setViewport(getViewportForBounds(bounds, width, height, minZoom, closest, padding));
  }, [flow, sized, store]);
  return null;
}
