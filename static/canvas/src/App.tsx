// The canvas: owns positions and selection; config comes from Django's side panel.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  SelectionMode,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { api } from "./api";
import { Saver, type SaveStatus } from "./autosave";
import * as clipboard from "./clipboard";
import { refusal } from "./connect";
import { TypesContext } from "./context";
import { newEdgeId, newNodeId, problemsByNode, toDoc, toFlow, toFlowEdge, type StepNode } from "./graph";
import ConnectDialog from "./ConnectDialog";
import HelpOverlay from "./HelpOverlay";
import { History, type Snapshot } from "./history";
import { layout } from "./layout";
import Palette, { DRAG_TYPE } from "./Palette";
import ProblemsList from "./ProblemsList";
import RunDialog from "./RunDialog";
import { fetchRun, followRun, isTerminal, nodeStates, startRun } from "./runs";
import { handleShortcut } from "./shortcuts";
import { closePanel, onPanelUpdate, openPanel, panelShows } from "./sidePanel";
import StepNodeView from "./StepNode";
import type { Boot, GraphDoc, Problem } from "./types";
import VersionsDialog from "./VersionsDialog";
import { diffView, type DiffView } from "./diff";

const nodeTypes = { step: StepNodeView };
const GRID: [number, number] = [20, 20];
const SAVE_LABELS: Record<SaveStatus, string> = {
  saved: "All changes saved",
  pending: "Unsaved changes…",
  saving: "Saving…",
  conflict: "Not saved: conflict",
  error: "Not saved: retrying",
};

export default function App({ boot, workerUrl }: { boot: Boot; workerUrl: string }) {
  const flow = useReactFlow<StepNode, Edge>();
  const types = useMemo(() => new Map(boot.nodeTypes.map((info) => [info.type, info])), [boot]);
  const initial = useMemo(() => toFlow(boot.graph, boot.problems), [boot]);
  const [nodes, setNodes] = useState<StepNode[]>(initial.nodes);
  const [edges, setEdges] = useState<Edge[]>(initial.edges);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  const history = useRef(new History()).current;
  const [, setHistoryTick] = useState(0);
  const [problems, setProblems] = useState<Problem[]>(boot.problems);
  const [saveStatus, setSaveStatus] = useState<SaveStatus>("saved");
  const [saveDetail, setSaveDetail] = useState("");
  const [conflict, setConflict] = useState<{ current: number | null } | null>(null);
  const [notice, setNotice] = useState("");
  const [snap, setSnap] = useState(true);
  const [dialog, setDialog] = useState<"help" | "versions" | "run" | "connect" | null>(null);
  const [diff, setDiff] = useState<DiffView | null>(null);
  const [published, setPublished] = useState(boot.publishedVersion);
  const [run, setRun] = useState<{ id: number; status: string } | null>(null);
  const [revision, setRevision] = useState(boot.revision);
  const meta = useRef<Record<string, unknown>>({ ...(boot.graph.meta ?? {}) });
  const editable = boot.can.edit && diff === null;
  const wrapper = useRef<HTMLDivElement>(null);

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

  const saver = useMemo(
    () =>
      new Saver(`/api/workflows/${boot.slug}/draft`, boot.revision, {
        status: (status, detail) => {
          setSaveStatus(status);
          setSaveDetail(detail ?? "");
        },
        saved: (rev, found) => {
          setRevision(rev);
          showProblems(found);
        },
        conflict: (current) => setConflict({ current }),
      }),
    [boot, showProblems],
  );

  // Replace the canvas with `next` as one undoable edit, then save it.
  const commit = useCallback(
    (next: Snapshot, record = true) => {
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

  const say = useCallback((text: string) => {
    setNotice(text);
    window.setTimeout(() => setNotice((current) => (current === text ? "" : current)), 6000);
  }, []);

  // --- adding, connecting, deleting -------------------------------------------------------

  const addNode = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      if (!editable) return;
      const taken = new Set(nodesRef.current.map((node) => node.id));
      const id = newNodeId(type, taken);
      let where = position;
      if (!where) {
        const box = wrapper.current?.getBoundingClientRect();
        const centre = flow.screenToFlowPosition({
          x: (box?.left ?? 0) + (box?.width ?? 800) / 2,
          y: (box?.top ?? 0) + (box?.height ?? 600) / 2,
        });
        const shift = (nodesRef.current.length % 8) * 30;
        where = { x: centre.x - 100 + shift, y: centre.y - 35 + shift };
      }
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
    [commit, editable, flow, say, types],
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

  // Draws an edge, or answers why it may not be drawn.
  const connectNodes = useCallback(
    (connection: Connection): string | null => {
      const reason = refusal(connection, nodesRef.current, edgesRef.current, types);
      if (reason) return reason;
      const id = newEdgeId(new Set(edgesRef.current.map((edge) => edge.id)));
      const handle = connection.sourceHandle === "out" ? null : connection.sourceHandle;
      const edge = toFlowEdge(id, connection.source, connection.target, handle);
      commit({ nodes: nodesRef.current, edges: [...edgesRef.current, edge] });
      say(`Connected '${connection.source}'${handle ? ` (${handle})` : ""} to '${connection.target}'.`);
      return null;
    },
    [commit, say, types],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const reason = connectNodes(connection);
      if (reason) say(`Not connected: ${reason}.`);
    },
    [connectNodes, say],
  );

  const isValidConnection = useCallback(
    (connection: Edge | Connection) =>
      refusal(
        { source: connection.source, sourceHandle: connection.sourceHandle ?? null, target: connection.target },
        nodesRef.current,
        edgesRef.current,
        types,
      ) === null,
    [types],
  );

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode) return;
      // Dropped on a node without an input (a trigger): React Flow finds no handle there.
      const point = event instanceof MouseEvent ? event : (event as TouchEvent).changedTouches[0];
      const under = document.elementFromPoint(point.clientX, point.clientY)?.closest<HTMLElement>(".react-flow__node");
      const toId = state.toNode?.id ?? under?.dataset.id;
      if (!toId) return;
      const fromSource = state.fromHandle?.type !== "target";
      const attempt = fromSource
        ? { source: state.fromNode.id, sourceHandle: state.fromHandle?.id ?? null, target: toId }
        : { source: toId, sourceHandle: state.toHandle?.id ?? null, target: state.fromNode.id };
      const reason = refusal(attempt, nodesRef.current, edgesRef.current, types);
      if (reason) say(`Not connected: ${reason}.`);
    },
    [say, types],
  );

  const deleteSelection = useCallback(() => {
    if (!editable) return;
    const gone = new Set(nodesRef.current.filter((node) => node.selected).map((node) => node.id));
    const keptEdges = edgesRef.current.filter(
      (edge) => !edge.selected && !gone.has(edge.source) && !gone.has(edge.target),
    );
    if (!gone.size && keptEdges.length === edgesRef.current.length) return;
    commit({ nodes: nodesRef.current.filter((node) => !gone.has(node.id)), edges: keptEdges });
  }, [commit, editable]);

  const paste = useCallback(
    (source: { nodes: StepNode[]; edges: Edge[] } | null) => {
      if (!editable || !source || !source.nodes.length) return;
      const taken = new Set(nodesRef.current.map((node) => node.id));
      const renamed = new Map<string, string>();
      const added: StepNode[] = source.nodes.map((node) => {
        const id = newNodeId(node.id, taken);
        taken.add(id);
        renamed.set(node.id, id);
        return {
          id,
          type: "step",
          selected: true,
          position: { x: node.position.x + 40, y: node.position.y + 40 },
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
    [commit, editable, say],
  );

  // --- history, layout ---------------------------------------------------------------------

  const restore = useCallback(
    (snapshot: Snapshot | null) => {
      if (!snapshot) return;
      commit(snapshot, false);
      setHistoryTick((tick) => tick + 1);
    },
    [commit],
  );
  const undo = useCallback(() => {
    if (editable) restore(history.undo({ nodes: nodesRef.current, edges: edgesRef.current }));
  }, [editable, history, restore]);
  const redo = useCallback(() => {
    if (editable) restore(history.redo({ nodes: nodesRef.current, edges: edgesRef.current }));
  }, [editable, history, restore]);

  const autoLayout = useCallback(async () => {
    if (!editable || !nodesRef.current.length) return;
    setNotice("Laying out…");
    try {
      const positions = await layout(workerUrl, nodesRef.current, edgesRef.current);
      commit({
        nodes: nodesRef.current.map((node) => ({ ...node, position: positions[node.id] ?? node.position })),
        edges: edgesRef.current,
      });
      window.requestAnimationFrame(() => void flow.fitView({ padding: 0.15 }));
      say("Laid out.");
      document.documentElement.dataset.layoutDone = String(Date.now());
    } catch (error) {
      say(`Auto-layout failed: ${error}`);
    }
  }, [commit, editable, flow, say, workerUrl]);

  // --- React Flow change streams -----------------------------------------------------------

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

  // --- the side panel ----------------------------------------------------------------------

  const selected = nodes.filter((node) => node.selected);
  const single = selected.length === 1 && diff === null ? selected[0] : null;
  useEffect(() => {
    if (!single) {
      closePanel();
      return;
    }
    void openPanel(boot.urls.panel, {
      id: single.id,
      type: single.data.type,
      label: single.data.label,
      config: single.data.config,
    });
  }, [boot.urls.panel, single?.id, single?.data.config, single?.data.label, single?.data.type]);

  useEffect(() => {
    const root = document.getElementById("canvas");
    if (!root) return undefined;
    return onPanelUpdate(root, (update) => {
      const node = nodesRef.current.find((item) => item.id === update.node);
      if (!node) return;
      const data = { ...node.data, config: update.config, label: update.label, problems: update.problems };
      panelShows({ id: node.id, type: data.type, label: data.label, config: data.config });
      const unchanged =
        node.data.label === update.label && JSON.stringify(node.data.config) === JSON.stringify(update.config);
      if (unchanged) {
        // Applying the same settings again is not an edit: nothing to undo, nothing to save.
        setNodes((current) => current.map((item) => (item.id === node.id ? { ...item, data } : item)));
        return;
      }
      commit({
        nodes: nodesRef.current.map((item) => (item.id === node.id ? { ...item, data } : item)),
        edges: edgesRef.current,
      });
    });
  }, [commit]);

  // --- conflicts ---------------------------------------------------------------------------

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
    saver.reset(draft.revision);
    setRevision(draft.revision);
    setConflict(null);
    say(`Reloaded revision ${draft.revision}. Ctrl+Z brings your edit back.`);
  }, [boot.slug, history, saver, say]);

  const overwrite = useCallback(async () => {
    const current = conflict?.current ?? revision;
    setConflict(null);
    await saver.overwrite(current, readDoc);
  }, [conflict, readDoc, revision, saver]);

  const downloadMine = useCallback(() => {
    const blob = new Blob([JSON.stringify(readDoc(), null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${boot.slug}.draft.json`;
    link.click();
  }, [boot.slug, readDoc]);

  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (saver.dirty) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [saver]);

  // --- runs and diffs ----------------------------------------------------------------------

  const start = useCallback(
    async (input: unknown): Promise<string | null> => {
      try {
        await saver.settle();
        const started = await startRun(boot.slug, input);
        setRun({ id: started.id, status: started.status });
        setDiff(null);
        return null;
      } catch (error) {
        return `Not started: ${error instanceof Error ? error.message : error}`;
      }
    },
    [boot.slug, saver],
  );

  useEffect(() => {
    if (!run) return undefined;
    let stopped = false;
    let ended = false;
    let timer = 0;
    let reading = false;
    let again = false;
    // Read the run again when its socket says it changed, else now and then; one read at a time.
    const look = async () => {
      if (stopped || ended) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      window.clearTimeout(timer);
      try {
        const detail = await fetchRun(run.id);
        const states = nodeStates(detail);
        setNodes((current) =>
          current.map((node) => {
            const state = states.get(node.id);
            return state === node.data.runState ? node : { ...node, data: { ...node.data, runState: state } };
          }),
        );
        setRun((current) => (current && current.status !== detail.status ? { ...current, status: detail.status } : current));
        ended = isTerminal(detail.status);
      } catch {
        // A failed read is tried again on the next message or tick.
      }
      reading = false;
      if (again) {
        again = false;
        void look();
      } else if (!ended && !stopped) {
        timer = window.setTimeout(() => void look(), 5000);
      }
    };
    const stopFollowing = followRun(run.id, () => void look());
    void look();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stopFollowing();
    };
  }, [run?.id]);

  const clearRun = useCallback(() => {
    setRun(null);
    setNodes((current) => current.map((node) => ({ ...node, data: { ...node.data, runState: undefined } })));
  }, []);

  const compare = useCallback(
    async (from: string, to: string) => {
      try {
        await saver.settle();
        setDiff(await diffView(boot.slug, from, to));
        setDialog(null);
        closePanel();
        window.requestAnimationFrame(() => void flow.fitView({ padding: 0.15 }));
      } catch (error) {
        say(`Cannot compare: ${error instanceof Error ? error.message : error}`);
      }
    },
    [boot.slug, flow, saver, say],
  );

  // --- keyboard ----------------------------------------------------------------------------

  useEffect(() => {
    const onKey = (event: KeyboardEvent) =>
      handleShortcut(event, {
        undo,
        redo,
        remove: deleteSelection,
        copy: () => say(`Copied ${clipboard.copy(nodesRef.current, edgesRef.current)} node(s).`),
        paste: () => paste(clipboard.read()),
        duplicate: () => {
          const chosen = nodesRef.current.filter((node) => node.selected);
          const ids = new Set(chosen.map((node) => node.id));
          paste({ nodes: chosen, edges: edgesRef.current.filter((e) => ids.has(e.source) && ids.has(e.target)) });
        },
        selectAll: () => setNodes((current) => current.map((node) => ({ ...node, selected: true }))),
        layout: () => void autoLayout(),
        fit: () => void flow.fitView({ padding: 0.15 }),
        zoomIn: () => void flow.zoomIn(),
        zoomOut: () => void flow.zoomOut(),
        toggleSnap: () => setSnap((value) => !value),
        save: () => void saver.flush(),
        help: () => setDialog("help"),
        pan: (dx, dy) => {
          if (nodesRef.current.some((node) => node.selected)) return false;
          const { x, y, zoom } = flow.getViewport();
          void flow.setViewport({ x: x - dx, y: y - dy, zoom });
          return true;
        },
        connect: () => {
          if (!editable) return;
          if (nodesRef.current.filter((node) => node.selected).length === 1) setDialog("connect");
          else say("Select one step to connect it (Tab to a step, then Enter).");
        },
        search: () => document.getElementById("palette-search")?.focus(),
        escape: () => {
          setNodes((current) => current.map((node) => (node.selected ? { ...node, selected: false } : node)));
          setEdges((current) => current.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)));
        },
      });
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [autoLayout, deleteSelection, editable, flow, paste, redo, saver, say, undo]);

  // --- render ------------------------------------------------------------------------------

  const shownNodes = diff ? diff.nodes : nodes;
  const shownEdges = diff ? diff.edges : edges;
  return (
    <TypesContext.Provider value={types}>
      <div className="canvas-layout">
        <Palette types={boot.nodeTypes} disabled={!editable} onAdd={(type) => addNode(type)} />
        <div className="canvas-main">
          <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
            <strong className="canvas-title">{boot.title}</strong>
            <span className={`save-status save-${saveStatus}`} role="status" data-testid="save-status" title={saveDetail}>
              {SAVE_LABELS[saveStatus]} · rev {revision}
            </span>
            <button type="button" className="button" onClick={undo} disabled={!editable || !history.canUndo} aria-keyshortcuts="Control+Z">Undo</button>
            <button type="button" className="button" onClick={redo} disabled={!editable || !history.canRedo} aria-keyshortcuts="Control+Shift+Z">Redo</button>
            <button type="button" className="button" onClick={() => setDialog("connect")} disabled={!editable || !single} aria-keyshortcuts="C">Connect…</button>
            <button type="button" className="button" onClick={() => void autoLayout()} disabled={!editable} aria-keyshortcuts="L">Auto-layout</button>
            <button type="button" className="button" onClick={() => void flow.fitView({ padding: 0.15 })} aria-keyshortcuts="F">Fit</button>
            <label className="toggle"><input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} /> Snap</label>
            <button type="button" className="button" onClick={() => setDialog("versions")}>Versions{published ? ` (v${published})` : ""}</button>
            {boot.can.run && <button type="button" className="button" onClick={() => setDialog("run")}>Run…</button>}
            <a className="button" href={boot.urls.export} download>Export</a>
            <button type="button" className="button" onClick={() => setDialog("help")} aria-keyshortcuts="Shift+?">?</button>
          </div>
          {conflict && (
            <div className="banner banner-bad" role="alert" data-testid="conflict">
              Someone else saved this draft meanwhile{conflict.current ? ` (now revision ${conflict.current})` : ""}. Your latest
              changes are kept here but not saved.
              <button type="button" className="button" onClick={() => void reloadTheirs()}>Reload their draft</button>
              <button type="button" className="button primary" onClick={() => void overwrite()}>Overwrite with mine</button>
              <button type="button" className="button" onClick={downloadMine}>Download mine</button>
            </div>
          )}
          {diff && (
            <div className="banner" role="status" data-testid="diff-banner">
              Comparing {diff.label}: <span className="legend diff-added">added {diff.counts.added}</span>{" "}
              <span className="legend diff-changed">changed {diff.counts.changed}</span>{" "}
              <span className="legend diff-removed">removed {diff.counts.removed}</span>
              <button type="button" className="button" onClick={() => setDiff(null)}>Back to editing</button>
            </div>
          )}
          {run && (
            <div className="banner" role="status" data-testid="run-banner">
              Run #{run.id}: <span className={`run-status run-${run.status}`}>{run.status}</span>{" "}
              <a href={`${boot.urls.runs}${run.id}/`}>Open the run</a>{" "}
              <button type="button" className="button" onClick={clearRun}>Hide</button>
            </div>
          )}
          <div className="notice" role="alert" aria-live="assertive" data-testid="notice">{notice}</div>
          <div className="flow-wrapper" ref={wrapper} onDrop={onDrop} onDragOver={(event) => { event.preventDefault(); event.dataTransfer.dropEffect = "move"; }}>
            <ReactFlow<StepNode, Edge>
              nodes={shownNodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={diff ? undefined : onNodesChange}
              onEdgesChange={diff ? undefined : onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onNodeDragStart={onNodeDragStart}
              nodesDraggable={editable}
              nodesConnectable={editable}
              deleteKeyCode={null}
              selectionKeyCode="Shift"
              multiSelectionKeyCode={["Shift", "Meta", "Control"]}
              selectionMode={SelectionMode.Partial}
              snapToGrid={snap}
              snapGrid={GRID}
              onlyRenderVisibleElements={nodes.length > 200}
              defaultViewport={(boot.graph.meta?.viewport as { x: number; y: number; zoom: number } | undefined) ?? undefined}
              fitView={!boot.graph.meta?.viewport}
              onMoveEnd={(_event, viewport) => {
                meta.current = { ...meta.current, viewport };
              }}
              minZoom={0.1}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={GRID[0]} />
              <Controls />
              <MiniMap pannable zoomable ariaLabel="Minimap" />
            </ReactFlow>
          </div>
          <ProblemsList
            problems={problems}
            onJump={(id) => {
              const node = nodesRef.current.find((item) => item.id === id);
              if (!node) return;
              setNodes((current) => current.map((item) => ({ ...item, selected: item.id === id })));
              void flow.setCenter(node.position.x + 100, node.position.y + 35, { zoom: Math.max(flow.getZoom(), 1), duration: 200 });
            }}
          />
        </div>
      </div>
      {dialog === "help" && <HelpOverlay onClose={() => setDialog(null)} />}
      {dialog === "connect" && single && (
        <ConnectDialog
          from={single}
          nodes={nodes}
          types={types}
          onConnect={(sourceHandle, target) => connectNodes({ source: single.id, sourceHandle, target, targetHandle: "in" })}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "versions" && (
        <VersionsDialog
          slug={boot.slug}
          canPublish={boot.can.publish}
          beforePublish={() => saver.settle()}
          onPublished={setPublished}
          onCompare={(from, to) => void compare(from, to)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "run" && (
        <RunDialog
          schema={(nodes.find((node) => node.data.type === "trigger.manual")?.data.config.input_schema as Record<string, unknown> | undefined) ?? boot.inputSchema}
          publishedVersion={published}
          onStart={start}
          onClose={() => setDialog(null)}
        />
      )}
    </TypesContext.Provider>
  );
}
