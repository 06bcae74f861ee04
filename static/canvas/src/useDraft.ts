// The draft on the canvas: its nodes and edges, their undo history, problems and autosave.
import {
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useMemo, useRef, useState, type Dispatch, type MutableRefObject, type SetStateAction } from "react";
import { api } from "./api";
import { problemsByNode, toDoc, toFlow, type StepNode } from "./graph";
import { History, type Snapshot } from "./history";
import type { Boot, GraphDoc, Problem } from "./types";
import { useAutosave, type Autosave } from "./useAutosave";

export interface Draft {
  nodes: StepNode[];
  edges: Edge[];
  // The newest nodes and edges, for callbacks that must not wait for a render.
  nodesRef: MutableRefObject<StepNode[]>;
  edgesRef: MutableRefObject<Edge[]>;
  // View state only (selection, run colours, problems): no undo step, no save.
  setNodes: Dispatch<SetStateAction<StepNode[]>>;
  setEdges: Dispatch<SetStateAction<Edge[]>>;
  problems: Problem[];
  history: History;
  autosave: Autosave;
  meta: MutableRefObject<Record<string, unknown>>;
  readDoc(): GraphDoc;
  // Replace the canvas with `next` as one undoable edit, then save it.
  commit(next: Snapshot): void;
  undo(): void;
  redo(): void;
  reloadTheirs(): Promise<void>;
  onNodesChange(changes: NodeChange<StepNode>[]): void;
  onEdgesChange(changes: EdgeChange[]): void;
  onNodeDragStart(): void;
}

export function useDraft(boot: Boot, editable: boolean, say: (text: string) => void): Draft {
  const flow = useReactFlow<StepNode, Edge>();
  const initial = useMemo(() => toFlow(boot.graph, boot.problems), [boot]);
  const [nodes, setNodes] = useState<StepNode[]>(initial.nodes);
  const [edges, setEdges] = useState<Edge[]>(initial.edges);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  const history = useRef(new History()).current;
  // History is not React state: a tick re-renders the Undo and Redo buttons.
  const [, setHistoryTick] = useState(0);
  const [problems, setProblems] = useState<Problem[]>(boot.problems);
  const meta = useRef<Record<string, unknown>>({ ...(boot.graph.meta ?? {}) });

  const readDoc = useCallback(
    (): GraphDoc => toDoc(nodesRef.current, edgesRef.current, flow.getViewport(), meta.current),
    [flow],
  );

  const showProblems = useCallback((all: Problem[]) => {
    setProblems(all);
    const byNode = problemsByNode(all);
    setNodes((current) =>
      current.map((node) => {
        const next = byNode.get(node.id) ?? [];
        const same = JSON.stringify(next) === JSON.stringify(node.data.problems);
        return same ? node : { ...node, data: { ...node.data, problems: next } };
      }),
    );
  }, []);

  const autosave = useAutosave(boot.slug, boot.revision, readDoc, showProblems);
  const { saver } = autosave;

  const replace = useCallback(
    (next: Snapshot, record: boolean) => {
      if (record) history.record({ nodes: nodesRef.current, edges: edgesRef.current });
      nodesRef.current = next.nodes;
      edgesRef.current = next.edges;
      setNodes(next.nodes);
      setEdges(next.edges);
      setHistoryTick((tick) => tick + 1);
      saver.schedule(readDoc);
    },
    [history, readDoc, saver],
  );
  const commit = useCallback((next: Snapshot) => replace(next, true), [replace]);

  const restore = useCallback(
    (snapshot: Snapshot | null) => {
      if (!snapshot) return;
      replace(snapshot, false);
      setHistoryTick((tick) => tick + 1);
    },
    [replace],
  );
  const undo = useCallback(() => {
    if (editable) restore(history.undo({ nodes: nodesRef.current, edges: edgesRef.current }));
  }, [editable, history, restore]);
  const redo = useCallback(() => {
    if (editable) restore(history.redo({ nodes: nodesRef.current, edges: edgesRef.current }));
  }, [editable, history, restore]);

  const reloadTheirs = useCallback(async () => {
    const draft = await api<{ graph: GraphDoc; revision: number; problems: Problem[] }>(
      "GET",
      `/api/workflows/${boot.slug}/draft`,
    );
    const flowGraph = toFlow(draft.graph, draft.problems);
    // Undo brings the discarded edit back: reloading is a choice, not a loss.
    history.record({ nodes: nodesRef.current, edges: edgesRef.current });
    nodesRef.current = flowGraph.nodes;
    edgesRef.current = flowGraph.edges;
    setNodes(flowGraph.nodes);
    setEdges(flowGraph.edges);
    setProblems(draft.problems);
    autosave.reloaded(draft.revision);
    say(`Reloaded revision ${draft.revision}. Ctrl+Z brings your edit back.`);
  }, [autosave.reloaded, boot.slug, history, say]);

  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => {
      const moved = changes.some((change) => change.type === "position" && !change.dragging);
      if (moved && !dragging.current && editable) {
        // Keyboard moves (arrow keys) are edits of their own.
        history.record({ nodes: nodesRef.current, edges: edgesRef.current });
      }
      const kept = changes.filter((change) => change.type !== "remove");
      const next = applyNodeChanges(kept, nodesRef.current);
      nodesRef.current = next;
      setNodes(next);
      if (moved && editable) {
        dragging.current = false;
        saver.schedule(readDoc);
      }
    },
    [editable, history, readDoc, saver],
  );
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const next = applyEdgeChanges(
      changes.filter((change) => change.type !== "remove"),
      edgesRef.current,
    );
    edgesRef.current = next;
    setEdges(next);
  }, []);
  const onNodeDragStart = useCallback(() => {
    dragging.current = true;
    history.record({ nodes: nodesRef.current, edges: edgesRef.current });
  }, [history]);

  return {
    nodes,
    edges,
    nodesRef,
    edgesRef,
    setNodes,
    setEdges,
    problems,
    history,
    autosave,
    meta,
    readDoc,
    commit,
    undo,
    redo,
    reloadTheirs,
    onNodesChange,
    onEdgesChange,
    onNodeDragStart,
  };
}
