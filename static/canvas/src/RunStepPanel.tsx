// The run overlay's step panel: what the selected node did in the shown run (input, output,
// error, attempts, logs), from GET /api/runs/<id>/nodes/<node> — the run page's panel's data.
import { useEffect, useState } from "react";
import { api } from "./api";

interface StepError {
  message: string;
  type: string;
  traceback: string;
}

interface StepAttempt {
  attempt: number;
  status: string;
  started_at: string;
  duration_ms: number | null;
  error: StepError | null;
  logs: unknown[];
  input_kept: boolean;
  input: unknown;
}

export interface RunStep {
  name: string;
  kind: string;
  status: string;
  input_kept: boolean;
  masked?: boolean;
  input: unknown;
  output: unknown;
  error: StepError | null;
  attempts: StepAttempt[];
}

// A step shown to someone who may not read sensitive input has "***" where it was.
function shown(text: string, masked: boolean): string {
  return masked ? text.split("***").join("\u2022\u2022\u2022\u2022 (sensitive)") : text;
}

function json(value: unknown, masked = false): string {
  return shown(JSON.stringify(value, null, 2), masked);
}

interface CutInput {
  cut: true;
  note: string;
  start: string;
}

function isCut(value: unknown): value is CutInput {
  return typeof value === "object" && value !== null && (value as { cut?: unknown }).cut === true;
}

// An input the journal kept cut says so before its start.
function InputBlock({ kept, value, masked = false }: { kept: boolean; value: unknown; masked?: boolean }) {
  if (!kept) return <p className="hint">The journal does not keep this step's input.</p>;
  if (!isCut(value)) return <pre className="code run-json">{json(value, masked)}</pre>;
  return (
    <div className="panel-cut">
      <p className="hint input-cut-note">Cut: {value.note}.</p>
      <pre className="code run-json">{shown(value.start, masked)}…</pre>
    </div>
  );
}

export default function RunStepPanel({ runId, nodeId, runStatus }: { runId: number; nodeId: string; runStatus: string }) {
  const [step, setStep] = useState<RunStep | null>(null);
  const [problem, setProblem] = useState<string>("");

  useEffect(() => {
    let current = true;
    setProblem("");
    api<RunStep>("GET", `/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}`)
      .then((found) => current && setStep(found))
      .catch((error: unknown) => {
        if (!current) return;
        setStep(null);
        setProblem(error instanceof Error ? error.message : String(error));
      });
    return () => {
      current = false;
    };
    // The run's status changing means the step may have moved on: read it again.
  }, [runId, nodeId, runStatus]);

  return (
    <aside className="run-step-panel" aria-labelledby="run-step-title" data-testid="run-step-panel">
      <h2 id="run-step-title">{step ? step.name : nodeId} <span className="count">in run #{runId}</span></h2>
      {problem && <p className="hint">{problem}</p>}
      {step && (
        <>
          <p>
            <span className={`run-status run-${step.status}`}>{step.status}</span> {step.kind} · {step.attempts.length} attempt
            {step.attempts.length === 1 ? "" : "s"}
          </p>
          {step.error && (
            <section>
              <h3>Error</h3>
              <p className="error-message">{step.error.message || "(no message)"}</p>
              {step.error.type && <p className="error-type">{step.error.type}</p>}
              {step.error.traceback && <pre className="code traceback">{step.error.traceback}</pre>}
            </section>
          )}
          <h3>Input</h3>
          <InputBlock kept={step.input_kept} value={step.input} masked={step.masked} />
          <h3>Output</h3>
          {step.output === null ? <p className="hint">No output.</p> : <pre className="code run-json">{json(step.output, step.masked)}</pre>}
          <h3>Attempts</h3>
          <ol className="panel-attempts">
            {step.attempts.map((attempt) => (
              <li key={attempt.attempt}>
                <span className={`run-status run-${attempt.status}`}>{attempt.status}</span>{" "}
                {attempt.duration_ms !== null ? `${Math.round(attempt.duration_ms)} ms` : "not finished"}
                {attempt.error && <div className="error-message">{attempt.error.message} ({attempt.error.type})</div>}
                {step.attempts.length > 1 && attempt.input_kept && (
                  <details className="attempt-input">
                    <summary>Input of attempt {attempt.attempt}</summary>
                    <InputBlock kept value={attempt.input} masked={step.masked} />
                  </details>
                )}
                {attempt.logs.length > 0 && (
                  <pre className="code panel-logs">{attempt.logs.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}</pre>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}
