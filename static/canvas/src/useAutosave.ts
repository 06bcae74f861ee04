// Saving the draft as it is edited, and the choices a conflict with another tab leaves the user.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Saver, type SaveStatus } from "./autosave";
import type { GraphDoc, Problem } from "./types";

export interface Autosave {
  saver: Saver;
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

export function useAutosave(
  slug: string,
  startRevision: number,
  readDoc: () => GraphDoc,
  saved: (problems: Problem[]) => void,
): Autosave {
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [detail, setDetail] = useState("");
  const [revision, setRevision] = useState(startRevision);
  const [conflict, setConflict] = useState<{ current: number | null } | null>(null);
  // The Saver lives as long as the page; it reports through the newest callback.
  const savedRef = useRef(saved);
  savedRef.current = saved;

  const saver = useMemo(
    () =>
      new Saver(`/api/workflows/${slug}/draft`, startRevision, {
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
    [slug, startRevision],
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
