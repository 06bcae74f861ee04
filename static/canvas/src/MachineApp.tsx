// The canvas of a state machine: states and transitions drawn and edited, with the workflow
// canvas's autosave, undo, layout, shortcuts, copy and paste, versions and their comparison; the
// side panel is React's here.
import { ReactFlow, useReactFlow, type Connection, type Edge, type Viewport } from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { ConflictBanner, DiffBanner } from "./Banners";
import { EDITING_PROPS, FlowChrome } from "./flowSettings";
import HelpOverlay from "./HelpOverlay";
import { machineFormat, type StateNode, type TransitionEdge } from "./machine";
import { machineDiffView, type MachineDiffView } from "./machineDiff";
import MachinePalette from "./MachinePalette";
import MachinePanel from "./MachinePanel";
import ProblemsList from "./ProblemsList";
import StateNodeView from "./StateNode";
import Toolbar from "./Toolbar";
import TransitionDialog from "./TransitionDialog";
import TransitionEdgeView, { SelectEdgeContext } from "./TransitionEdge";
import type { CanvasDialog, MachineBoot } from "./types";
import { useDraft } from "./useDraft";
import { useMachineEditing } from "./useMachineEditing";
import { useMachineOverlay } from "./useMachineOverlay";
import { useNotice } from "./useNotice";
import { useShortcuts } from "./useShortcuts";
import VersionsDialog from "./VersionsDialog";

const nodeTypes = { state: StateNodeView, compound: StateNodeView };
const edgeTypes = { transition: TransitionEdgeView };
const ignoreSelection = () => undefined;

export default function MachineApp({ boot, workerUrl }: { boot: MachineBoot; workerUrl: string }) {
  const flow = useReactFlow<StateNode, Edge>();
  const notice = useNotice();
  const { say } = notice;
  const [snap, setSnap] = useState(true);
  const [dialog, setDialog] = useState<CanvasDialog | null>(null);
  // The ends of an edge drawn with the mouse, waiting for its event in the dialog.
  const [drawn, setDrawn] = useState<{ source: string; target: string } | null>(null);
  const [published, setPublished] = useState(boot.publishedVersion);
  // Two versions drawn instead of the draft: nothing is edited meanwhile.
  const [diff, setDiff] = useState<MachineDiffView | null>(null);
  const editable = boot.can.edit && diff === null;
  const wrapper = useRef<HTMLDivElement>(null);
  const panel = useMemo(() => document.getElementById("panel"), []);

  const format = useMemo(() => machineFormat(boot.slug), [boot.slug]);
  const saved = useMemo(() => ({ doc: boot.definition, revision: boot.revision, problems: boot.problems }), [boot]);
  const draft = useDraft(format, saved, editable, say);
  const { nodes, edges, nodesRef, setNodes } = draft;
  const edits = useMachineEditing(draft, { editable, notice, wrapper, workerUrl });
  const watched = useMemo(() => {
    const raw = new URLSearchParams(window.location.search).get("instance");
    return raw && /^\d+$/.test(raw) ? Number(raw) : null;
  }, []);
  const overlay = useMachineOverlay(boot.slug, setNodes, watched, published !== null);

  const selectedNodes = diff ? [] : nodes.filter((node) => node.selected);
  const selectedEdges = diff ? [] : edges.filter((edge) => edge.selected);
  const node = selectedNodes.length === 1 && !selectedEdges.length ? selectedNodes[0] : null;
  const edge = selectedEdges.length === 1 && !selectedNodes.length ? (selectedEdges[0] as TransitionEdge) : null;
  const openDialog = useCallback((which: CanvasDialog) => {
    setDrawn(null);
    setDialog(which);
  }, []);
  // The keys would reach the draft's selection, hidden behind the comparison.
  const comparing = () => say("Not while comparing versions: go back to editing first.");
  useShortcuts(draft, diff ? { ...edits, copy: comparing, pasteCopied: comparing, duplicate: comparing } : edits, {
    editable,
    say,
    toggleSnap: () => setSnap((value) => !value),
    openDialog,
  });

  const isFinal = (id: string | null) => nodesRef.current.find((item) => item.id === id)?.data.final ?? false;
  const onConnect = (connection: Connection) => {
    if (isFinal(connection.source)) return say(`Not added: '${connection.source}' is final: nothing leaves a final state.`);
    setDrawn({ source: connection.source, target: connection.target });
    setDialog("connect");
  };
  const from = nodes.find((item) => item.id === (drawn?.source ?? node?.id));

  const jumpTo = (id: string) => {
    const state = nodesRef.current.find((item) => item.id === id);
    if (!state) return edits.selectEdge(id);
    setNodes((current) => current.map((item) => ({ ...item, selected: item.id === id })));
    const internal = flow.getInternalNode(id);
    const at = internal?.internals.positionAbsolute ?? state.position;
    void flow.setCenter(at.x + 90, at.y + 32, { zoom: Math.max(flow.getZoom(), 1), duration: 200 });
  };
  const compare = useCallback(
    async (older: string, newer: string) => {
      try {
        await draft.autosave.saver.settle();
        setDiff(await machineDiffView(boot.slug, older, newer));
        setDialog(null);
        window.requestAnimationFrame(() => void flow.fitView({ padding: 0.15 }));
      } catch (error) {
        say(`Cannot compare: ${error instanceof Error ? error.message : error}`);
      }
    },
    [boot.slug, draft.autosave.saver, flow, say],
  );
  const backToDraft = () => {
    setDiff(null);
    window.requestAnimationFrame(() => void flow.fitView({ padding: 0.15 }));
  };

  const closeDialog = () => {
    setDialog(null);
    setDrawn(null);
  };
  // A new machine has nothing to fit the view to: it would zoom onto its first state.
  const savedViewport = (boot.definition.meta as { viewport?: Viewport } | undefined)?.viewport;
  const empty = !boot.definition.states?.length;
  const viewport = savedViewport ?? (empty ? { x: 0, y: 0, zoom: 1 } : undefined);

  return (
    <SelectEdgeContext.Provider value={diff ? ignoreSelection : edits.selectEdge}>
      <div className="canvas-layout">
        <MachinePalette disabled={!editable} onAdd={edits.addState} />
        <div className="canvas-main">
          <Toolbar
            title={boot.title}
            exportUrl={boot.urls.export}
            canRun={false}
            draft={draft}
            editable={editable}
            canConnect={node !== null && !node.data.final}
            snap={snap}
            setSnap={setSnap}
            published={published}
            autoLayout={() => void edits.autoLayout()}
            openDialog={openDialog}
          />
          <ConflictBanner autosave={draft.autosave} reloadTheirs={draft.reloadTheirs} />
          <DiffBanner diff={diff} onBack={backToDraft} />
          {overlay.instance && (
            <div className="banner" role="status" data-testid="instance-banner">
              Instance <strong>{overlay.instance.key}</strong>: in <code>{overlay.instance.state}</code>
              {overlay.instance.status === "final" ? " (final)" : ""} ·{" "}
              <a href={`/machines/${boot.slug}/instances/${overlay.instance.id}/`}>Open its cockpit</a>
            </div>
          )}
          <div className="notice" role="alert" aria-live="assertive" data-testid="notice">{notice.text}</div>
          <div className="flow-wrapper machine-flow" ref={wrapper}>
            <ReactFlow<StateNode, Edge>
              nodes={diff ? diff.nodes : nodes}
              edges={diff ? diff.edges : edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={diff ? undefined : draft.onNodesChange}
              onEdgesChange={diff ? undefined : draft.onEdgesChange}
              onConnect={diff ? undefined : onConnect}
              isValidConnection={(connection) => !isFinal(connection.source)}
              onNodeDragStart={draft.onNodeDragStart}
              nodesDraggable={editable}
              nodesConnectable={editable}
              snapToGrid={snap}
              {...EDITING_PROPS}
              defaultViewport={viewport}
              fitView={!viewport}
            >
              <FlowChrome />
            </ReactFlow>
          </div>
          <ProblemsList problems={draft.problems} onJump={jumpTo} />
        </div>
      </div>
      {panel && createPortal(<MachinePanel node={node} edge={edge} nodes={nodes} actionTypes={boot.actionTypes} editable={editable} edits={edits} />, panel)}
      {dialog === "help" && <HelpOverlay onClose={closeDialog} />}
      {dialog === "connect" && from && (
        <TransitionDialog
          from={from}
          to={drawn?.target ?? null}
          nodes={nodes}
          onConnect={(target, kind, value) => edits.connect(from.id, target, kind, value)}
          onClose={closeDialog}
        />
      )}
      {dialog === "versions" && (
        <VersionsDialog
          apiBase={`/api/machines/${boot.slug}`}
          canPublish={boot.can.publish}
          beforePublish={() => draft.autosave.saver.settle()}
          onPublished={setPublished}
          onCompare={(older, newer) => void compare(older, newer)}
          onClose={closeDialog}
        />
      )}
    </SelectEdgeContext.Provider>
  );
}
