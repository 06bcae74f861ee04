// Edits of a workflow's draft: adding nodes (from the palette or by dropping them), deleting,
// copying, pasting and laying out; each is one undoable step.
import { useReactFlow, type Edge } from "@xyflow/react";
import { useCallback, type DragEvent, type RefObject } from "react";
import * as clipboard from "./clipboard";
import { newEdgeId, newNodeId, toFlowEdge, type StepNode } from "./graph";
import type { Snapshot } from "./history";
import { freeSpot, STEP_SIZE, type Box } from "./placement";
import { DRAG_TYPE } from "./Palette";
import type { NodeTypeInfo } from "./types";
import { useAutoLayout, useDeleteSelection } from "./useCommonEdits";
import type { Draft } from "./useDraft";
import type { Notice } from "./useNotice";

export interface Editing {
  addNode(type: string, position?: { x: number; y: number }): void;
  onDrop(event: DragEvent): void;
  deleteSelection(): void;
  paste(source: Snapshot | null): void;
  autoLayout(): Promise<void>;
  // Through the clipboard, which other workflows' canvases share.
  copy(): void;
  pasteCopied(): void;
  duplicate(): void;
}

interface Surroundings {
  editable: boolean;
  types: Map<string, NodeTypeInfo>;
  notice: Notice;
  // The canvas element: a node added from the palette lands in its centre.
  wrapper: RefObject<HTMLDivElement | null>;
  workerUrl: string;
}

export function useEditing(
  draft: Pick<Draft, "nodesRef" | "edgesRef" | "commit">,
  { editable, types, notice, wrapper, workerUrl }: Surroundings,
): Editing {
  const flow = useReactFlow<StepNode, Edge>();
  const { nodesRef, edgesRef, commit } = draft;
  const { say } = notice;

  const addNode = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      if (!editable) return;
      const taken = new Set(nodesRef.current.map((node) => node.id));
      const id = newNodeId(type, taken);
      const boxes: Box[] = nodesRef.current.map((node) => ({
        ...node.position,
        width: node.measured?.width ?? STEP_SIZE.width,
        height: node.measured?.height ?? STEP_SIZE.height,
      }));
      let wanted = position;
      const chosen = nodesRef.current.filter((node) => node.selected);
      if (!wanted && chosen.length === 1) {
        // Next to the selected step, where the flow would go on.
        const after = chosen[0];
        wanted = { x: after.position.x + (after.measured?.width ?? STEP_SIZE.width) + 80, y: after.position.y };
      }
      if (!wanted) {
        const box = wrapper.current?.getBoundingClientRect();
        const centre = flow.screenToFlowPosition({
          x: (box?.left ?? 0) + (box?.width ?? 800) / 2,
          y: (box?.top ?? 0) + (box?.height ?? 600) / 2,
        });
        wanted = { x: centre.x - STEP_SIZE.width / 2, y: centre.y - STEP_SIZE.height / 2 };
      }
      // Never on top of another step: a hidden step is a lost step.
      const where = freeSpot(wanted, boxes);
      const node: StepNode = {
        id,
        type: "step",
        position: where,
        selected: true,
        data: { type, label: "", config: {}, problems: [] },
      };
      const others = nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n));
      commit({ nodes: [...others, node], edges: edgesRef.current });
      say(`Added ${types.get(type)?.title ?? type} as '${id}'.`);
    },
    [commit, editable, edgesRef, flow, nodesRef, say, types, wrapper],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_TYPE);
      if (!type) return;
      event.preventDefault();
      const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: point.x - 100, y: point.y - 30 });
    },
    [addNode, flow],
  );

  const deleteSelection = useDeleteSelection(draft, editable);

  const paste = useCallback(
    (source: Snapshot | null) => {
      if (!editable || !source || !source.nodes.length) return;
      const taken = new Set(nodesRef.current.map((node) => node.id));
      const renamed = new Map<string, string>();
      const boxes: Box[] = nodesRef.current.map((node) => ({
        ...node.position,
        width: node.measured?.width ?? STEP_SIZE.width,
        height: node.measured?.height ?? STEP_SIZE.height,
      }));
      const added: StepNode[] = source.nodes.map((node) => {
        const id = newNodeId(node.id, taken);
        taken.add(id);
        renamed.set(node.id, id);
        // A pasted copy goes near its original, but never on top of a step already there.
        const position = freeSpot({ x: node.position.x + 40, y: node.position.y + 40 }, boxes);
        boxes.push({ ...position, ...STEP_SIZE });
        return {
          id,
          type: "step",
          selected: true,
          position,
          data: { type: node.data.type, label: node.data.label, config: node.data.config, problems: [] },
        };
      });
      const edgeIds = new Set(edgesRef.current.map((edge) => edge.id));
      const addedEdges = source.edges.map((edge) => {
        const id = newEdgeId(edgeIds);
        edgeIds.add(id);
        const handle = edge.sourceHandle === "out" ? null : edge.sourceHandle;
        return toFlowEdge(id, renamed.get(edge.source) ?? edge.source, renamed.get(edge.target) ?? edge.target, handle);
      });
      const others = nodesRef.current.map((node) => (node.selected ? { ...node, selected: false } : node));
      commit({ nodes: [...others, ...added], edges: [...edgesRef.current, ...addedEdges] });
      say(`Pasted ${added.length} node(s).`);
    },
    [commit, editable, edgesRef, nodesRef, say],
  );

  const autoLayout = useAutoLayout(draft, { editable, notice, workerUrl });

  const copy = useCallback(
    () => say(`Copied ${clipboard.copy(nodesRef.current, edgesRef.current)} node(s).`),
    [edgesRef, nodesRef, say],
  );
  const pasteCopied = useCallback(() => {
    if (clipboard.kindCopied() === "machine") return say("Not pasted: states copied from a state machine paste only into a state machine.");
    paste(clipboard.read());
  }, [paste, say]);
  const duplicate = useCallback(() => {
    const chosen = nodesRef.current.filter((node) => node.selected);
    const ids = new Set(chosen.map((node) => node.id));
    paste({ nodes: chosen, edges: edgesRef.current.filter((e) => ids.has(e.source) && ids.has(e.target)) });
  }, [edgesRef, nodesRef, paste]);

  return { addNode, onDrop, deleteSelection, paste, autoLayout, copy, pasteCopied, duplicate };
}
