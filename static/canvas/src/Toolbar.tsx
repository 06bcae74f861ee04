// The canvas toolbar: save state, undo and redo, layout, view, versions, runs, export, help.
import { useReactFlow } from "@xyflow/react";
import type { SaveStatus } from "./autosave";
import { FIT_ALL_UNMAGNIFIED } from "./flowSettings";
import type { Node } from "@xyflow/react";
import type { CanvasDialog } from "./types";
import type { Draft } from "./useDraft";

const SAVE_LABELS: Record<SaveStatus, string> = {
  saved: "All changes saved",
  pending: "Unsaved changes…",
  saving: "Saving…",
  conflict: "Not saved: conflict",
  error: "Not saved: retrying",
};

interface Props {
  title: string;
  exportUrl: string;
  canRun: boolean;
  draft: Pick<Draft<Node, unknown>, "autosave" | "history" | "undo" | "redo">;
  editable: boolean;
  // One node is selected, so the Connect dialog has somewhere to start.
  canConnect: boolean;
  snap: boolean;
  setSnap(snap: boolean): void;
  published: number | null;
  autoLayout(): void;
  openDialog(dialog: CanvasDialog): void;
  // The user's roles allow editing; without it the editing controls are not shown at all.
  // (The machine canvas has its own publishing and no test runs: it leaves these out.)
  canEdit?: boolean;
  canPublish?: boolean;
  publishing?: boolean;
  publish?(): void;
  canTestRun?: boolean;
}

// A disabled control says so to assistive technology as well as to the eye.
const off = (disabled: boolean) => ({ disabled, "aria-disabled": disabled || undefined });

export default function Toolbar(props: Props) {
  const { title, exportUrl, canRun, draft, editable, canConnect, snap, setSnap, published, autoLayout, openDialog } = props;
  const { canEdit = true, canPublish = false, publishing = false, publish, canTestRun = false } = props;
  const flow = useReactFlow();
  const { autosave, history } = draft;
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
      <strong className="canvas-title">{title}</strong>
      <span className={`save-status save-${autosave.status}`} role="status" data-testid="save-status" title={autosave.detail}>
        {SAVE_LABELS[autosave.status]} · rev {autosave.revision}
      </span>
      {canEdit && (
        <>
          <button type="button" className="button" onClick={draft.undo} {...off(!editable || !history.canUndo)} aria-keyshortcuts="Control+Z">Undo</button>
          <button type="button" className="button" onClick={draft.redo} {...off(!editable || !history.canRedo)} aria-keyshortcuts="Control+Shift+Z">Redo</button>
          <button type="button" className="button" onClick={() => openDialog("connect")} {...off(!editable || !canConnect)} aria-keyshortcuts="C">Connect…</button>
          <button type="button" className="button" onClick={autoLayout} {...off(!editable)} aria-keyshortcuts="L">Auto-layout</button>
        </>
      )}
      <button type="button" className="button" onClick={() => void flow.fitView(FIT_ALL_UNMAGNIFIED)} aria-keyshortcuts="F">Fit</button>
      {canEdit && <label className="toggle"><input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} /> Snap</label>}
      <button type="button" className="button" onClick={() => openDialog("versions")}>Versions{published ? ` (v${published})` : ""}</button>
      {canTestRun && <button type="button" className="button" onClick={() => openDialog("test-run")} {...off(!editable)}>Test run</button>}
      {canRun && <button type="button" className="button" onClick={() => openDialog("run")}>Run…</button>}
      {canPublish && publish && (
        <button type="button" className="button primary" onClick={publish} {...off(!editable || publishing)}>
          {publishing ? "Publishing…" : "Publish"}
        </button>
      )}
      <a className="button" href={exportUrl} download>Export</a>
      <button type="button" className="button" onClick={() => openDialog("help")} aria-keyshortcuts="Shift+?">?</button>
    </div>
  );
}
