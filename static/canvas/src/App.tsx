// The canvas: owns positions and selection; config comes from Django's side panel.
import { ReactFlow, useReactFlow, useStore, type Edge, type Viewport } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ConflictBanner, DiffBanner, RunBanner } from "./Banners";
import ConnectDialog from "./ConnectDialog";
import { PlainStepsContext, TypesContext } from "./context";
import { publishDraft, reason } from "./designerApi";
import { diffView, type DiffView } from "./diff";
import FitOnLoad, { beyondTheGraph } from "./FitOnLoad";
import { EDITING_PROPS, FIT_ALL, FIT_ALL_UNMAGNIFIED, FlowChrome } from "./flowSettings";
import { graphFormat, type StepNode } from "./graph";
import HelpOverlay from "./HelpOverlay";
import Palette from "./Palette";
import ProblemsList from "./ProblemsList";
import RunDialog from "./RunDialog";
import { panelContext } from "./panelContext";
import { startRun } from "./runs";
import RunStepPanel from "./RunStepPanel";
import TestRunDialog from "./TestRunDialog";
import { closePanel } from "./sidePanel";
import { useEstimatedNodes } from "./stepGeometry";
import StepEdgeView from "./StepEdge";
import StepNodeView, { zoomedOut } from "./StepNode";
import Toolbar from "./Toolbar";
import type { Boot, CanvasDialog } from "./types";
import { useConnecting } from "./useConnecting";
import { useDraft } from "./useDraft";
import { useEditing } from "./useEditing";
import { useNotice } from "./useNotice";
import { useRunOverlay } from "./useRunOverlay";
import { useShortcuts } from "./useShortcuts";
import { useSidePanel } from "./useSidePanel";
import VersionsDialog from "./VersionsDialog";

const nodeTypes = { step: StepNodeView };
const edgeTypes = { default: StepEdgeView };
// Past this many steps, only those in view are drawn.
const DRAW_VISIBLE_ONLY_ABOVE = 200;

export default function App({ boot, workerUrl }: { boot: Boot; workerUrl: string }) {
  const flow = useReactFlow<StepNode, Edge>();
  const types = useMemo(() => new Map(boot.nodeTypes.map((info) => [info.type, info])), [boot]);
  const notice = useNotice();
  const { say } = notice;
  const [snap, setSnap] = useState(true);
  const [dialog, setDialog] = useState<CanvasDialog | null>(null);
  const [diff, setDiff] = useState<DiffView | null>(null);
  const [published, setPublished] = useState(boot.publishedVersion);
  const editable = boot.can.edit && diff === null;
  const wrapper = useRef<HTMLDivElement>(null);

  const format = useMemo(() => graphFormat(boot.slug), [boot.slug]);
  const saved = useMemo(() => ({ doc: boot.graph, revision: boot.revision, problems: boot.problems }), [boot]);
  const draft = useDraft(format, saved, editable, say);
  const { nodes, nodesRef, setNodes, autosave } = draft;
  const editing = useEditing(draft, { editable, types, notice, wrapper, workerUrl });
  const connecting = useConnecting(draft, types, say);
  const overlay = useRunOverlay(setNodes);
  const drawVisibleOnly = nodes.length > DRAW_VISIBLE_ONLY_ABOVE;
  // Fitting an empty canvas waits for the first step and then zooms onto it (to 200 %): only a
  // canvas that opens with steps is fitted. From the page's graph, so it is decided once.
  const fitOnOpen = !boot.graph.meta?.viewport && boot.graph.nodes.length > 0;
  const openedLarge = boot.graph.nodes.length > DRAW_VISIBLE_ONLY_ABOVE;
  const flowNodes = useEstimatedNodes(nodes, types, drawVisibleOnly);
  // Read by React Flow once, when it mounts.
  const [openingViewport] = useState(
    () => (boot.graph.meta?.viewport as Viewport | undefined) ?? (fitOnOpen && openedLarge ? beyondTheGraph(flowNodes) : undefined),
  );
  const plainSteps = useStore(zoomedOut);

  // /designer/<slug>/?run=<id> (linked from the run page) opens with that run laid over.
  useEffect(() => {
    const asked = Number(new URLSearchParams(window.location.search).get("run"));
    if (Number.isInteger(asked) && asked > 0) overlay.show({ id: asked, status: "pending" });
  }, []);
  // The draft's input schema: the manual trigger's on the canvas, else the one the page came with.
  const inputSchema = useCallback(
    () =>
      (nodesRef.current.find((node) => node.data.type === "trigger.manual")?.data.config.input_schema as Record<string, unknown> | undefined) ??
      boot.inputSchema,
    [boot.inputSchema, nodesRef],
  );
  useEffect(() => {
    panelContext.slug = boot.slug;
    panelContext.inputSchema = inputSchema;
  }, [boot.slug, inputSchema]);

  const [publishing, setPublishing] = useState(false);
  const publish = useCallback(async () => {
    setPublishing(true);
    try {
      await autosave.saver.settle();
      const version = await publishDraft(boot.slug, "");
      setPublished(version.number);
      say(`Published version ${version.number}.`);
    } catch (error) {
      // An unchanged draft is refused with the server's own words ("nothing to publish: …").
      say(`Not published: ${reason(error)}`);
    } finally {
      setPublishing(false);
    }
  }, [autosave.saver, boot.slug, say]);

  const selected = nodes.filter((node) => node.selected);
  const single = selected.length === 1 && diff === null ? selected[0] : null;
  useSidePanel(boot.urls.panel, single, draft);
  useShortcuts(draft, editing, {
    editable,
    say,
    toggleSnap: () => setSnap((value) => !value),
    openDialog: setDialog,
  });

  const start = useCallback(
    async (input: unknown): Promise<string | null> => {
      try {
        await autosave.saver.settle();
        const started = await startRun(boot.slug, input);
        overlay.show({ id: started.id, status: started.status });
        setDiff(null);
        return null;
      } catch (error) {
        return `Not started: ${error instanceof Error ? error.message : error}`;
      }
    },
    [autosave.saver, boot.slug, overlay.show],
  );

  const compare = useCallback(
    async (from: string, to: string) => {
      try {
        await autosave.saver.settle();
        setDiff(await diffView(boot.slug, from, to));
        setDialog(null);
        closePanel();
        window.requestAnimationFrame(() => void flow.fitView(FIT_ALL));
      } catch (error) {
        say(`Cannot compare: ${error instanceof Error ? error.message : error}`);
      }
    },
    [autosave.saver, boot.slug, flow, say],
  );

  const jumpTo = (id: string) => {
    const node = nodesRef.current.find((item) => item.id === id);
    if (!node) return;
    setNodes((current) => current.map((item) => ({ ...item, selected: item.id === id })));
    void flow.setCenter(node.position.x + 100, node.position.y + 35, { zoom: Math.max(flow.getZoom(), 1), duration: 200 });
  };
  const closeDialog = () => setDialog(null);

  return (
    <TypesContext.Provider value={types}>
      <PlainStepsContext.Provider value={plainSteps}>
      <div className={`canvas-layout${boot.can.edit ? "" : " read-only"}`}>
        {boot.can.edit && <Palette types={boot.nodeTypes} disabled={!editable} onAdd={(type) => editing.addNode(type)} />}
        <div className="canvas-main">
          <Toolbar
            title={boot.title}
            exportUrl={boot.urls.export}
            canRun={boot.can.run}
            draft={draft}
            editable={editable}
            canConnect={single !== null}
            snap={snap}
            setSnap={setSnap}
            published={published}
            autoLayout={() => void editing.autoLayout()}
            openDialog={setDialog}
            canEdit={boot.can.edit}
            canTestRun={boot.can.edit}
            canPublish={boot.can.publish}
            publishing={publishing}
            publish={() => void publish()}
          />
          {!boot.can.edit && (
            <p className="banner" role="note" data-testid="read-only-banner">
              Read-only: your roles let you look at this workflow but not change it. Ask an administrator for the designers role to edit it.
            </p>
          )}
          <ConflictBanner autosave={autosave} reloadTheirs={draft.reloadTheirs} />
          <DiffBanner diff={diff} onBack={() => setDiff(null)} />
          <RunBanner run={overlay.run} runsUrl={boot.urls.runs} onHide={overlay.hide} />
          <div className="flow-wrapper" ref={wrapper} onDrop={editing.onDrop} onDragOver={(event) => { event.preventDefault(); event.dataTransfer.dropEffect = "move"; }}>
            <ReactFlow<StepNode, Edge>
              nodes={diff ? diff.nodes : flowNodes}
              edges={diff ? diff.edges : draft.edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={diff ? undefined : draft.onNodesChange}
              onEdgesChange={diff ? undefined : draft.onEdgesChange}
              onConnect={connecting.onConnect}
              onConnectEnd={connecting.onConnectEnd}
              isValidConnection={connecting.isValidConnection}
              onNodeDragStart={draft.onNodeDragStart}
              nodesDraggable={editable}
              nodesConnectable={editable}
              snapToGrid={snap}
              {...EDITING_PROPS}
              onlyRenderVisibleElements={drawVisibleOnly}
              defaultViewport={openingViewport}
              fitView={fitOnOpen && !openedLarge}
              fitViewOptions={FIT_ALL_UNMAGNIFIED}
              onMoveEnd={(_event, viewport) => {
                draft.meta.current = { ...draft.meta.current, viewport };
              }}
            >
              <FlowChrome deferMinimap={openedLarge} />
              {fitOnOpen && openedLarge && <FitOnLoad />}
            </ReactFlow>
            {/* Floats over the canvas, so a notice never pushes the canvas down. */}
            <div className="notice" role="alert" aria-live="assertive" data-testid="notice">{notice.text}</div>
            {nodes.length === 0 && diff === null && (
              <div className="empty-canvas" data-testid="empty-canvas">
                {editable ? (
                  <>
                    <p><strong>Drag a step here</strong> from the palette to start.</p>
                    <p>Begin with a trigger, such as <em>Manual start</em>; or click a step in the palette, or search it and press Enter.</p>
                  </>
                ) : (
                  <p>This workflow has no steps yet.</p>
                )}
              </div>
            )}
          </div>
          {overlay.run && single && <RunStepPanel runId={overlay.run.id} nodeId={single.id} runStatus={overlay.run.status} />}
          <ProblemsList problems={draft.problems} onJump={jumpTo} />
        </div>
      </div>
      {dialog === "help" && <HelpOverlay onClose={closeDialog} />}
      {dialog === "connect" && single && (
        <ConnectDialog
          from={single}
          nodes={nodes}
          types={types}
          onConnect={(sourceHandle, target) => connecting.connectNodes({ source: single.id, sourceHandle, target, targetHandle: "in" })}
          onClose={closeDialog}
        />
      )}
      {dialog === "versions" && (
        <VersionsDialog
          apiBase={`/api/workflows/${boot.slug}`}
          canPublish={boot.can.publish}
          beforePublish={() => autosave.saver.settle()}
          onPublished={setPublished}
          onCompare={(from, to) => void compare(from, to)}
          onClose={closeDialog}
        />
      )}
      {dialog === "test-run" && (
        <TestRunDialog
          slug={boot.slug}
          schema={inputSchema()}
          beforeRun={() => autosave.saver.settle()}
          onStarted={(run) => {
            overlay.show({ id: run.run_id, status: "running" });
            say(`Test run #${run.run_id} started on the draft.`);
          }}
          onClose={closeDialog}
        />
      )}
      {dialog === "run" && (
        <RunDialog
          schema={(nodes.find((node) => node.data.type === "trigger.manual")?.data.config.input_schema as Record<string, unknown> | undefined) ?? boot.inputSchema}
          publishedVersion={published}
          onStart={start}
          onClose={closeDialog}
        />
      )}
      </PlainStepsContext.Provider>
    </TypesContext.Provider>
  );
}
