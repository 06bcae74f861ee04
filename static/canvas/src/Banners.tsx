// The banners above the canvas: a save conflict, a comparison of versions, a run being followed.
import type { DiffView } from "./diff";
import type { Autosave } from "./useAutosave";
import type { ShownRun } from "./useRunOverlay";

export function ConflictBanner({ autosave, reloadTheirs }: { autosave: Autosave; reloadTheirs(): Promise<void> }) {
  const { conflict } = autosave;
  if (!conflict) return null;
  return (
    <div className="banner banner-bad" role="alert" data-testid="conflict">
      Someone else saved this draft meanwhile{conflict.current ? ` (now revision ${conflict.current})` : ""}. Your latest
      changes are kept here but not saved.
      <button type="button" className="button" onClick={() => void reloadTheirs()}>Reload their draft</button>
      <button type="button" className="button primary" onClick={() => void autosave.overwrite()}>Overwrite with mine</button>
      <button type="button" className="button" onClick={autosave.downloadMine}>Download mine</button>
    </div>
  );
}

// A workflow's comparison or a machine's (machineDiff.ts): the banner needs only its words.
export function DiffBanner({ diff, onBack }: { diff: Pick<DiffView, "label" | "counts"> | null; onBack(): void }) {
  if (!diff) return null;
  return (
    <div className="banner" role="status" data-testid="diff-banner">
      Comparing {diff.label}: <span className="legend diff-added">added {diff.counts.added}</span>{" "}
      <span className="legend diff-changed">changed {diff.counts.changed}</span>{" "}
      <span className="legend diff-removed">removed {diff.counts.removed}</span>
      <button type="button" className="button" onClick={onBack}>Back to editing</button>
    </div>
  );
}

export function RunBanner({ run, runsUrl, onHide }: { run: ShownRun | null; runsUrl: string; onHide(): void }) {
  if (!run) return null;
  return (
    <div className="banner" role="status" data-testid="run-banner">
      Run #{run.id}: <span className={`run-status run-${run.status}`}>{run.status}</span>{" "}
      <a href={`${runsUrl}${run.id}/`}>Open the run</a>{" "}
      <button type="button" className="button" onClick={onHide}>Hide</button>
    </div>
  );
}
