// "Test run" for designers: runs the current draft (not a published version) with input from a
// form generated from the trigger's input schema; the run is marked as a test on the server.
import { useEffect, useRef, useState } from "react";
import { missing, reason, testRun } from "./designerApi";
import { useInputForm } from "./InputForm";

interface Props {
  slug: string;
  schema: Record<string, unknown> | null;
  beforeRun(): Promise<void>;
  onStarted(run: { run_id: number; url: string }): void;
  onClose(): void;
}

export default function TestRunDialog({ slug, schema, beforeRun, onStarted, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const form = useInputForm("test-run", schema);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => ref.current?.showModal(), []);
  const submit = async () => {
    const built = form.build();
    if ("error" in built) return setMessage(built.error);
    setBusy(true);
    setMessage("Starting a test run of the draft…");
    try {
      await beforeRun();
      onStarted(await testRun(slug, built.input));
      ref.current?.close();
    } catch (error) {
      setMessage(missing(error) ? "Test runs are not available on this server." : `Not started: ${reason(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="test-run-title" onClose={onClose}>
      <h2 id="test-run-title">Test run of the draft</h2>
      <p className="hint">Runs the draft as it is now, without publishing it; the run is marked as a test.</p>
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }} className="stack">
        {form.element}
        <p role="status" className="hint" data-testid="test-run-status">{message}</p>
        <div className="row">
          <button type="submit" className="button primary" disabled={busy} aria-disabled={busy || undefined}>Start test run</button>
          <button type="button" className="button" onClick={() => ref.current?.close()}>Cancel</button>
        </div>
      </form>
    </dialog>
  );
}
