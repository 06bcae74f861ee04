// The canvas toolbar: save state, undo and redo, layout, view, versions, runs, export, help.
import { useReactFlow } from "@xyflow/react";
import type { SaveStatus } from "./autosave";
import type { Boot, CanvasDialog } from "./types";
import type { Draft } from "./useDraft";

const SAVE_LABELS: Record<SaveStatus, string> = {
  saved: "All changes saved",
  pending: "Unsaved changes…",
  saving: "Saving…",
  conflict: "Not saved: conflict",
  error: "Not saved: retrying",
};

interface Props {
  boot: Boot;
  draft: Draft;
  editable: boolean;
  // One node is selected, so the Connect dialog has somewhere to start.
  canConnect: boolean;
  snap: boolean;
  setSnap(snap: boolean): void;
  published: number | null;
  autoLayout(): void;
  openDialog(dialog: CanvasDialog): void;
}

export default function Toolbar({ boot, draft, editable, canConnect, snap, setSnap, published, autoLayout, openDialog }: Props) {
  const flow = useReactFlow();
  const { autosave, history } = draft;
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
      <strong className="canvas-title">{boot.title}</strong>
      <span className={`save-status save-${autosave.status}`} role="status" data-testid="save-status" title={autosave.detail}>
        {SAVE_LABELS[autosave.status]} · rev {autosave.revision}
      </span>
      <button type="button" className="button" onClick={draft.undo} disabled={!editable || !history.canUndo} aria-keyshortcuts="Control+Z">Undo</button>
      <button type="button" className="button" onClick={draft.redo} disabled={!editable || !history.canRedo} aria-keyshortcuts="Control+Shift+Z">Redo</button>
      <button type="button" className="button" onClick={() => openDialog("connect")} disabled={!editable || !canConnect} aria-keyshortcuts="C">Connect…</button>
      <button type="button" className="button" onClick={autoLayout} disabled={!editable} aria-keyshortcuts="L">Auto-layout</button>
      <button type="button" className="button" onClick={() => void flow.fitView({ padding: 0.15 })} aria-keyshortcuts="F">Fit</button>
      <label className="toggle"><input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} /> Snap</label>
      <button type="button" className="button" onClick={() => openDialog("versions")}>Versions{published ? ` (v${published})` : ""}</button>
      {boot.can.run && <button type="button" className="button" onClick={() => openDialog("run")}>Run…</button>}
      <a className="button" href={boot.urls.export} download>Export</a>
      <button type="button" className="button" onClick={() => openDialog("help")} aria-keyshortcuts="Shift+?">?</button>
    </div>
  );
}
