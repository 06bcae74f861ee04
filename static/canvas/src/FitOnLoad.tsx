// Fits a large graph into view as soon as the canvas knows its own size, from the steps' estimated
// sizes (stepGeometry.ts). React Flow's own fitView waits until a first step is measured, so the
// steps in view at the unfitted viewport would be drawn and measured only to be replaced by those
// in view once fitted.
import { getNodesBounds, getViewportForBounds, useReactFlow, useStore, useStoreApi } from "@xyflow/react";
import { useLayoutEffect, useRef } from "react";
import { FIT_ALL_UNMAGNIFIED } from "./flowSettings";

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
