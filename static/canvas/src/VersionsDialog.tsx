// Publish with a note, list the versions, and pick two of them to compare on the canvas.
import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { reason } from "./designerApi";

interface Version {
  number: number;
  note: string;
  author: string | null;
  published_at: string;
}

interface Props {
  // The workflow's or machine's API: /api/workflows/<slug> or /api/machines/<slug>.
  apiBase: string;
  canPublish: boolean;
  beforePublish(): Promise<void>;
  onPublished(number: number): void;
  // Without it the dialog offers no comparison.
  onCompare?(from: string, to: string): void;
  onClose(): void;
}

export default function VersionsDialog({ apiBase, canPublish, beforePublish, onPublished, onCompare, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [versions, setVersions] = useState<Version[]>([]);
  const [note, setNote] = useState("");
  const [message, setMessage] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("draft");
  const load = () =>
    api<Version[]>("GET", `${apiBase}/versions`).then((list) => {
      setVersions(list);
      if (list.length && !from) setFrom(String(list[0].number));
    });
  useEffect(() => {
    ref.current?.showModal();
    void load();
  }, []);
  const publish = async () => {
    setMessage("Publishing…");
    try {
      await beforePublish();
      const version = await api<Version>("POST", `${apiBase}/publish`, { note });
      setMessage(`Published version ${version.number}.`);
      setNote("");
      onPublished(version.number);
      await load();
    } catch (error) {
      setMessage(`Not published: ${reason(error)}`);
    }
  };
  const choices = [...versions.map((v) => String(v.number)), "draft"];
  return (
    <dialog ref={ref} className="dialog wide" aria-labelledby="versions-title" onClose={onClose}>
      <h2 id="versions-title">Versions</h2>
      {canPublish && (
        <div className="publish-row">
          <label htmlFor="publish-note">Note for this version</label>
          <input id="publish-note" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
          <button type="button" className="button primary" onClick={() => void publish()}>
            Publish the draft
          </button>
        </div>
      )}
      <p role="status" className="hint" data-testid="publish-status">{message}</p>
      {versions.length === 0 ? (
        <p className="hint">Nothing published yet.</p>
      ) : (
        <table className="table" data-testid="versions">
          <thead>
            <tr><th scope="col">Version</th><th scope="col">Note</th><th scope="col">By</th><th scope="col">Published</th></tr>
          </thead>
          <tbody>
            {versions.map((version) => (
              <tr key={version.number}>
                <td>v{version.number}</td>
                <td>{version.note}</td>
                <td>{version.author ?? ""}</td>
                <td><time dateTime={version.published_at}>{new Date(version.published_at).toLocaleString()}</time></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {versions.length > 0 && onCompare && (
        <fieldset className="compare">
          <legend>Compare on the canvas</legend>
          <label>From <select value={from} onChange={(e) => setFrom(e.target.value)}>{choices.map((c) => <option key={c} value={c}>{c === "draft" ? "draft" : `v${c}`}</option>)}</select></label>
          <label>To <select value={to} onChange={(e) => setTo(e.target.value)}>{choices.map((c) => <option key={c} value={c}>{c === "draft" ? "draft" : `v${c}`}</option>)}</select></label>
          <button type="button" className="button" onClick={() => onCompare(from, to)} disabled={!from || from === to}>Show the difference</button>
        </fieldset>
      )}
      <form method="dialog"><button className="button" type="submit">Close</button></form>
    </dialog>
  );
}
