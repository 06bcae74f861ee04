// "Test this step" in the side panel: runs the one node on the server with sample input and shows
// its output; a step with side effects asks first (the server answers 409 until confirmed). The
// output can be pinned, so downstream steps are tested against it without running this one again.
import { useEffect, useState } from "react";
import { ApiError } from "./api";
import { missing, pin, pins, reason, testStep, unpin, type StepTest } from "./designerApi";
import { useInputForm } from "./InputForm";
import { panelContext } from "./panelContext";

type Outcome =
  | { kind: "idle" }
  | { kind: "running" }
  | { kind: "done"; result: StepTest }
  | { kind: "confirm"; message: string }
  | { kind: "refused"; message: string }
  | { kind: "unavailable" };

const TRIGGER = /^trigger\./;

export function TestStep({ node, nodeType }: { node: string; nodeType: string }) {
  const slug = panelContext.slug;
  const form = useInputForm(`test-${node}`, panelContext.inputSchema());
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });
  const [pinned, setPinned] = useState<{ output: unknown } | null>(null);
  const [pinNote, setPinNote] = useState("");
  // Nothing is asked of the server until the designer opens the section.
  const [opened, setOpened] = useState(false);

  useEffect(() => {
    if (!opened) return undefined;
    let live = true;
    pins(slug)
      .then((all) => live && setPinned(node in all ? { output: all[node] } : null))
      .catch(() => undefined); // no pins (or no endpoint): nothing to show
    return () => {
      live = false;
    };
  }, [slug, node, opened]);

  if (TRIGGER.test(nodeType)) return null; // a trigger only passes the input on

  const run = async (confirm: boolean) => {
    const built = form.build();
    if ("error" in built) return setOutcome({ kind: "refused", message: built.error });
    setOutcome({ kind: "running" });
    try {
      setOutcome({ kind: "done", result: await testStep(slug, node, built.input, confirm) });
    } catch (error) {
      if (missing(error)) setOutcome({ kind: "unavailable" });
      else if (error instanceof ApiError && error.status === 409 && error.body.needs_confirmation) {
        setOutcome({ kind: "confirm", message: reason(error) });
      } else setOutcome({ kind: "refused", message: reason(error) });
    }
  };
  const pinOutput = async (output: unknown) => {
    try {
      await pin(slug, node, output);
      setPinned({ output });
      setPinNote("Pinned: downstream tests use this output.");
    } catch (error) {
      setPinNote(`Not pinned: ${reason(error)}`);
    }
  };
  const unpinOutput = async () => {
    try {
      await unpin(slug, node);
      setPinned(null);
      setPinNote("Unpinned.");
    } catch (error) {
      setPinNote(`Still pinned: ${reason(error)}`);
    }
  };

  return (
    <details className="test-step" onToggle={(event) => setOpened(event.currentTarget.open)}>
      <summary>Test this step</summary>
      <p className="hint">Runs only this step with the sample input below; earlier steps' outputs come from their pins or last tests.</p>
      {form.element}
      <button type="button" className="button" onClick={() => void run(false)} disabled={outcome.kind === "running"} aria-disabled={outcome.kind === "running"}>
        {outcome.kind === "running" ? "Testing…" : "Test step"}
      </button>
      <div role="status" aria-live="polite" data-testid="test-step-result">
        {outcome.kind === "unavailable" && <p className="hint">Testing a single step is not available on this server.</p>}
        {outcome.kind === "refused" && <p className="problem-text">Not tested: {outcome.message}</p>}
        {outcome.kind === "confirm" && (
          <div className="confirm-box">
            <p>{outcome.message}</p>
            <button type="button" className="button danger" onClick={() => void run(true)}>Run it anyway</button>
          </div>
        )}
        {outcome.kind === "done" && (
          <div className="test-result">
            {outcome.result.error ? <p className="problem-text">Failed: {outcome.result.error}</p> : <p>Output ({Math.round(outcome.result.duration_ms)} ms):</p>}
            {!outcome.result.error && <pre className="json" data-testid="test-step-output">{JSON.stringify(outcome.result.output, null, 2)}</pre>}
            {!outcome.result.error && <button type="button" className="button" onClick={() => void pinOutput(outcome.result.output)}>Pin output</button>}
          </div>
        )}
      </div>
      {pinned && (
        <div className="pinned" data-testid="pinned-output">
          <p>Pinned output:</p>
          <pre className="json">{JSON.stringify(pinned.output, null, 2)}</pre>
          <button type="button" className="button" onClick={() => void unpinOutput()}>Unpin</button>
        </div>
      )}
      {pinNote && <small className="hint" role="status">{pinNote}</small>}
    </details>
  );
}
