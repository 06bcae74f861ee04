// Saving the draft as it is edited, and the choices a conflict with another tab leaves the user.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Saver, type SaveStatus } from "./autosave";
import type { Problem } from "./types";

export interface Autosave<D = unknown> {
  saver: Saver<D>;
  status: SaveStatus;
  detail: string;
  revision: number;
  // Set while someone else's save stands between this tab and the server.
  conflict: { current: number | null } | null;
  // The saved draft replaced this tab's edit: saving starts again from its revision.
  reloaded(revision: number): void;
  overwrite(): Promise<void>;
  downloadMine(): void;
}

// Where a draft is saved: its API endpoint, and the field of the body that holds the document.
export interface DraftEndpoint {
  slug: string;
  url: string;
  field: string;
}

export function useAutosave<D>(
  { slug, url, field }: DraftEndpoint,
  startRevision: number,
  readDoc: () => D,
  saved: (problems: Problem[]) => void,
): Autosave<D> {
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [detail, setDetail] = useState("");
  const [revision, setRevision] = useState(startRevision);
  const [conflict, setConflict] = useState<{ current: number | null } | null>(null);
  // The Saver lives as long as the page; it reports through the newest callback.
  const savedRef = useRef(saved);
  savedRef.current = saved;

  const saver = useMemo(
    () =>
      new Saver<D>(url, field, startRevision, {
        status: (next, why) => {
          setStatus(next);
          setDetail(why ?? "");
        },
        saved: (rev, found) => {
          setRevision(rev);
          savedRef.current(found);
        },
        conflict: (current) => setConflict({ current }),
      }),
    [url, field, startRevision],
  );

  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (saver.dirty) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [saver]);

  const reloaded = useCallback(
    (rev: number) => {
      saver.reset(rev);
      setRevision(rev);
      setConflict(null);
    },
    [saver],
  );

  const overwrite = useCallback(async () => {
    const current = conflict?.current ?? revision;
    setConflict(null);
    await saver.overwrite(current, readDoc);
  }, [conflict, readDoc, revision, saver]);

  const downloadMine = useCallback(() => {
    const blob = new Blob([JSON.stringify(readDoc(), null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${slug}.draft.json`;
    link.click();
  }, [slug, readDoc]);

  return { saver, status, detail, revision, conflict, reloaded, overwrite, downloadMine };
}
