// The draft on the canvas: its nodes and edges, their undo history, problems and autosave. A
// workflow's graph and a machine's definition are both drafts; a DraftFormat tells them apart.
import {
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type Viewport,
} from "@xyflow/react";
import { useCallback, useMemo, useRef, useState, type Dispatch, type MutableRefObject, type SetStateAction } from "react";
import { api } from "./api";
import { problemsByNode, type StepNode } from "./graph";
import { History, type Snapshot } from "./history";
import type { GraphDoc, Problem } from "./types";
import { useAutosave, type Autosave, type DraftEndpoint } from "./useAutosave";

// How one kind of document becomes React Flow nodes and edges, and back.
export interface DraftFormat<N extends Node, D> {
  endpoint: DraftEndpoint;
  toFlow(doc: D, problems: Problem[]): { nodes: N[]; edges: Edge[] };
  toDoc(nodes: N[], edges: Edge[], viewport: Viewport, meta: Record<string, unknown>): D;
  // What the canvas keeps of the document without drawing it (its viewport, a machine's context).
  metaOf(doc: D): Record<string, unknown>;
  // Problems are shown on the edges they name too (a machine's transitions), not only on nodes.
  edgeProblems: boolean;
}

export interface DraftStart<D> {
  doc: D;
  revision: number;
  problems: Problem[];
}

export interface Draft<N extends Node = StepNode, D = GraphDoc> {
  nodes: N[];
  edges: Edge[];
  // The newest nodes and edges, for callbacks that must not wait for a render.
  nodesRef: MutableRefObject<N[]>;
  edgesRef: MutableRefObject<Edge[]>;
  // View state only (selection, run colours, problems): no undo step, no save.
  setNodes: Dispatch<SetStateAction<N[]>>;
  setEdges: Dispatch<SetStateAction<Edge[]>>;
  problems: Problem[];
  history: History<N>;
  autosave: Autosave<D>;
  meta: MutableRefObject<Record<string, unknown>>;
  readDoc(): D;
  // Replace the canvas with `next` as one undoable edit, then save it.
  commit(next: Snapshot<N>): void;
  undo(): void;
  redo(): void;
  reloadTheirs(): Promise<void>;
  onNodesChange(changes: NodeChange<N>[]): void;
  onEdgesChange(changes: EdgeChange[]): void;
  onNodeDragStart(): void;
}

// Items whose problems changed get new data; the others stay the same objects (no re-render).
function withProblems<T extends Node | Edge>(items: T[], byNode: Map<string, Problem[]>): T[] {
  return items.map((item) => {
    const next = byNode.get(item.id) ?? [];
    const same = JSON.stringify(next) === JSON.stringify(item.data?.problems);
    return same ? item : { ...item, data: { ...item.data, problems: next } };
  });
}

export function useDraft<N extends Node, D>(
  format: DraftFormat<N, D>,
  start: DraftStart<D>,
  editable: boolean,
  say: (text: string) => void,
): Draft<N, D> {
  const flow = useReactFlow<N, Edge>();
  const initial = useMemo(() => format.toFlow(start.doc, start.problems), [format, start]);
  const [nodes, setNodes] = useState<N[]>(initial.nodes);
  const [edges, setEdges] = useState<Edge[]>(initial.edges);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  const history = useRef(new History<N>()).current;
  // History is not React state: a tick re-renders the Undo and Redo buttons.
  const [, setHistoryTick] = useState(0);
  const [problems, setProblems] = useState<Problem[]>(start.problems);
  const meta = useRef<Record<string, unknown>>(format.metaOf(start.doc));

  const readDoc = useCallback(
    (): D => format.toDoc(nodesRef.current, edgesRef.current, flow.getViewport(), meta.current),
    [flow, format],
  );

  const showProblems = useCallback(
    (all: Problem[]) => {
      setProblems(all);
      const byNode = problemsByNode(all);
      setNodes((current) => withProblems(current, byNode));
      if (format.edgeProblems) setEdges((current) => withProblems(current, byNode));
    },
    [format],
  );

  const autosave = useAutosave(format.endpoint, start.revision, readDoc, showProblems);
  const { saver } = autosave;

  const replace = useCallback(
    (next: Snapshot<N>, record: boolean) => {
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
  const commit = useCallback((next: Snapshot<N>) => replace(next, true), [replace]);

  const restore = useCallback(
    (snapshot: Snapshot<N> | null) => {
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
    const { endpoint } = format;
    const draft = await api<Record<string, unknown> & { revision: number; problems: Problem[] }>("GET", endpoint.url);
    const doc = draft[endpoint.field] as D;
    const flowGraph = format.toFlow(doc, draft.problems);
    meta.current = format.metaOf(doc);
    // Undo brings the discarded edit back: reloading is a choice, not a loss.
    history.record({ nodes: nodesRef.current, edges: edgesRef.current });
    nodesRef.current = flowGraph.nodes;
    edgesRef.current = flowGraph.edges;
    setNodes(flowGraph.nodes);
    setEdges(flowGraph.edges);
    setProblems(draft.problems);
    autosave.reloaded(draft.revision);
    say(`Reloaded revision ${draft.revision}. Ctrl+Z brings your edit back.`);
  }, [autosave.reloaded, format, history, say]);

  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes: NodeChange<N>[]) => {
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
