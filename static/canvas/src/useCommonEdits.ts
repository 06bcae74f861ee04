// Edits every canvas has, whatever it draws: deleting the selection and auto-layout, each one
// undoable step.
import { useReactFlow, type Edge, type Node } from "@xyflow/react";
import { useCallback } from "react";
import { FIT_ALL } from "./flowSettings";
import { layout } from "./layout";
import type { Draft } from "./useDraft";
import type { Notice } from "./useNotice";

type Editable<N extends Node> = Pick<Draft<N, unknown>, "nodesRef" | "edgesRef" | "commit">;

// The selected nodes, the nodes inside them (a machine's compound states) and every edge that
// touched one of them or was selected itself.
export function useDeleteSelection<N extends Node>(draft: Editable<N>, editable: boolean): () => void {
  const { nodesRef, edgesRef, commit } = draft;
  return useCallback(() => {
    if (!editable) return;
    const gone = new Set(nodesRef.current.filter((node) => node.selected).map((node) => node.id));
    for (let grew = gone.size > 0; grew; ) {
      const inside = nodesRef.current.filter((node) => node.parentId && gone.has(node.parentId) && !gone.has(node.id));
      inside.forEach((node) => gone.add(node.id));
      grew = inside.length > 0;
    }
    const keptEdges = edgesRef.current.filter(
      (edge) => !edge.selected && !gone.has(edge.source) && !gone.has(edge.target),
    );
    if (!gone.size && keptEdges.length === edgesRef.current.length) return;
    commit({ nodes: nodesRef.current.filter((node) => !gone.has(node.id)), edges: keptEdges });
  }, [commit, editable, edgesRef, nodesRef]);
}

interface LayoutSurroundings {
  editable: boolean;
  notice: Notice;
  workerUrl: string;
}

export function useAutoLayout<N extends Node>(
  draft: Editable<N>,
  { editable, notice, workerUrl }: LayoutSurroundings,
): () => Promise<void> {
  const flow = useReactFlow<N, Edge>();
  const { nodesRef, edgesRef, commit } = draft;
  const { say, hold } = notice;
  return useCallback(async () => {
    if (!editable || !nodesRef.current.length) return;
    hold("Laying out…");
    try {
      const positions = await layout(workerUrl, nodesRef.current, edgesRef.current);
      commit({
        nodes: nodesRef.current.map((node) => ({ ...node, position: positions[node.id] ?? node.position })),
        edges: edgesRef.current,
      });
      window.requestAnimationFrame(() => void flow.fitView(FIT_ALL));
      say("Laid out.");
      document.documentElement.dataset.layoutDone = String(Date.now());
    } catch (error) {
      say(`Auto-layout failed: ${error}`);
    }
  }, [commit, editable, edgesRef, flow, hold, nodesRef, say, workerUrl]);
}
