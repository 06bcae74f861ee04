// The side panel of a machine: the selected state (id, label, where it sits, whether it starts or
// ends the machine, entry and exit actions) or transition (its target, what takes it, its guard
// and actions), with the draft's problems at the inputs they concern.
import { useState, type ReactNode } from "react";
import ActionsEditor from "./ActionsEditor";
import CommitInput from "./CommitInput";
import { triggerText, type StateNode, type TransitionEdge, type TriggerKind } from "./machine";
import { possibleParents } from "./machineEdits";
import type { NodeTypeInfo, Problem } from "./types";
import type { MachineEditing } from "./useMachineEditing";

interface Props {
  node: StateNode | null;
  edge: TransitionEdge | null;
  nodes: StateNode[];
  actionTypes: NodeTypeInfo[];
  editable: boolean;
  edits: MachineEditing;
}

const SHOWN_FIELDS = new Set(["id", "label", "parent", "initial", "final", "event", "after", "guard", "target", "source"]);

function messages(problems: Problem[], field: string): string[] {
  return problems.filter((problem) => problem.field === field).map((problem) => problem.message);
}

// Problems no input shows: of the whole state or transition, or of a field not on the panel.
function others(problems: Problem[]): string[] {
  return problems
    .filter((problem) => !problem.field || (!SHOWN_FIELDS.has(problem.field) && !/^(entry|exit|actions)\[/.test(problem.field)))
    .map((problem) => (problem.field ? `${problem.field}: ${problem.message}` : problem.message));
}

function Field({ id, label, hint, problems, children }: { id: string; label: string; hint?: string; problems: string[]; children: ReactNode }) {
  return (
    <div className={`field${problems.length ? " has-problem" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <small className="hint">{hint}</small>}
      {problems.length > 0 && <small className="problem-text" id={`${id}-problem`}>{problems.join("; ")}</small>}
    </div>
  );
}

function StatePanel({ node, nodes, actionTypes, editable, edits }: Omit<Props, "edge" | "node"> & { node: StateNode }) {
  const { data } = node;
  const [renameError, setRenameError] = useState("");
  const children = nodes.filter((item) => item.parentId === node.id);
  const parents = possibleParents(nodes, node.id);
  const idProblems = renameError ? [renameError, ...messages(data.problems, "id")] : messages(data.problems, "id");
  return (
    <form className="panel-form" aria-labelledby="machine-panel-title" onSubmit={(event) => event.preventDefault()}>
      <h2 id="machine-panel-title">State {data.label || node.id}</h2>
      <fieldset disabled={!editable}>
        <legend className="visually-hidden">Settings of the state {node.id}</legend>
        <Field id="state-id" label="State id" hint="What instances report as their state; transitions follow a rename." problems={idProblems}>
          <CommitInput id="state-id" value={node.id} invalid={idProblems.length > 0} describedBy={idProblems.length ? "state-id-problem" : undefined} onCommit={(text) => setRenameError(edits.renameState(node.id, text.trim()) ?? "")} />
        </Field>
        <Field id="state-label" label="Label" problems={messages(data.problems, "label")}>
          <CommitInput id="state-label" value={data.label} onCommit={(text) => edits.updateState(node.id, { label: text.trim() })} />
        </Field>
        <Field id="state-parent" label="Inside" problems={messages(data.problems, "parent")}>
          <select id="state-parent" value={node.parentId ?? ""} onChange={(event) => edits.moveState(node.id, event.target.value || null)}>
            <option value="">the machine (top level)</option>
            {parents.map((item) => <option key={item.id} value={item.id}>{item.data.label || item.id} ({item.id})</option>)}
          </select>
        </Field>
        {!node.parentId && (
          <div className="field">
            <label className="check">
              <input type="checkbox" checked={data.start} onChange={(event) => (event.target.checked ? edits.startIn(node.id) : edits.updateState(node.id, { start: false }))} /> The machine starts here
            </label>
          </div>
        )}
        {children.length > 0 && (
          <Field id="state-initial" label="Enters first" hint="The child state entered when a transition leads here." problems={messages(data.problems, "initial")}>
            <select id="state-initial" value={data.initial} onChange={(event) => edits.updateState(node.id, { initial: event.target.value })}>
              <option value="">choose…</option>
              {children.map((item) => <option key={item.id} value={item.id}>{item.data.label || item.id} ({item.id})</option>)}
            </select>
          </Field>
        )}
        <div className={`field${messages(data.problems, "final").length ? " has-problem" : ""}`}>
          <label className="check">
            <input type="checkbox" checked={data.final} disabled={children.length > 0} onChange={(event) => edits.updateState(node.id, { final: event.target.checked })} /> Final state
          </label>
          {messages(data.problems, "final").length > 0 && <small className="problem-text">{messages(data.problems, "final").join("; ")}</small>}
        </div>
      </fieldset>
      <ActionsEditor field="entry" legend="Entry actions" idPrefix={`state-${node.id}`} actions={data.entry} types={actionTypes} problems={data.problems} disabled={!editable} onChange={(entry) => edits.updateState(node.id, { entry })} />
      <ActionsEditor field="exit" legend="Exit actions" idPrefix={`state-${node.id}`} actions={data.exit} types={actionTypes} problems={data.problems} disabled={!editable} onChange={(exit) => edits.updateState(node.id, { exit })} />
      <OtherProblems problems={data.problems} />
    </form>
  );
}

const KINDS: [TriggerKind, string][] = [
  ["event", "On an event"],
  ["after", "After a delay in the state"],
  ["always", "Always (as soon as the guard holds)"],
];

function TransitionPanel({ edge, nodes, actionTypes, editable, edits }: Omit<Props, "edge" | "node"> & { edge: TransitionEdge }) {
  const data = edge.data as NonNullable<TransitionEdge["data"]>;
  const { problems } = data;
  const label = (id: string) => nodes.find((item) => item.id === id)?.data.label || id;
  const guardProblems = messages(problems, "guard");
  const valueField = data.kind === "after" ? "after" : "event";
  const valueProblems = [...messages(problems, valueField), ...(data.kind === "always" ? messages(problems, "event") : [])];
  return (
    <form className="panel-form" aria-labelledby="machine-panel-title" onSubmit={(event) => event.preventDefault()}>
      <h2 id="machine-panel-title">Transition {triggerText(data)}</h2>
      <dl className="facts">
        <dt>Id</dt><dd><code>{edge.id}</code></dd>
        <dt>From</dt><dd>{label(edge.source)} (<code>{edge.source}</code>)</dd>
      </dl>
      <fieldset disabled={!editable}>
        <legend className="visually-hidden">Settings of the transition {edge.id}</legend>
        <Field id="transition-target" label="To" problems={messages(problems, "target")}>
          <select id="transition-target" value={edge.target} onChange={(event) => edits.updateTransition(edge.id, {}, event.target.value)}>
            {nodes.map((item) => <option key={item.id} value={item.id}>{item.data.label || item.id} ({item.id})</option>)}
          </select>
        </Field>
        <fieldset className="trigger-kind">
          <legend>Taken</legend>
          {KINDS.map(([kind, text]) => (
            <label key={kind} className="check">
              <input type="radio" name="transition-kind" value={kind} checked={data.kind === kind} onChange={() => edits.updateTransition(edge.id, { kind, value: kind === "after" ? "30m" : "" })} /> {text}
            </label>
          ))}
        </fieldset>
        {data.kind !== "always" && (
          <Field
            id="transition-value"
            label={data.kind === "after" ? "Delay" : "Event"}
            hint={data.kind === "after" ? "Seconds, or 90s, 15m, 48h, 30d: a timer in the database." : "The event's name, as sent to POST /api/instances/{id}/events."}
            problems={valueProblems}
          >
            <CommitInput id="transition-value" value={data.value} invalid={valueProblems.length > 0} describedBy={valueProblems.length ? "transition-value-problem" : undefined} onCommit={(text) => edits.updateTransition(edge.id, { value: text.trim() })} />
          </Field>
        )}
        {data.kind === "always" && valueProblems.length > 0 && <p className="problem-text">{valueProblems.join("; ")}</p>}
        <Field id="transition-guard" label="Guard" hint="A CEL condition over context, event and now; empty: always allowed." problems={guardProblems}>
          <CommitInput id="transition-guard" value={data.guard} className="code-input" invalid={guardProblems.length > 0} describedBy={guardProblems.length ? "transition-guard-problem" : undefined} onCommit={(text) => edits.updateTransition(edge.id, { guard: text.trim() })} />
        </Field>
      </fieldset>
      <ActionsEditor field="actions" legend="Transition actions" idPrefix={`transition-${edge.id}`} actions={data.actions} types={actionTypes} problems={problems} disabled={!editable} onChange={(actions) => edits.updateTransition(edge.id, { actions })} />
      <OtherProblems problems={problems} />
    </form>
  );
}

function OtherProblems({ problems }: { problems: Problem[] }) {
  const rest = others(problems);
  if (!rest.length) return null;
  return <ul className="problems" aria-label="Other problems">{rest.map((message, index) => <li key={index}>{message}</li>)}</ul>;
}

export default function MachinePanel(props: Props) {
  // Keyed by what is shown: another selection starts with fresh inputs.
  if (props.node) return <StatePanel key={`state-${props.node.id}`} {...props} node={props.node} />;
  if (props.edge) return <TransitionPanel key={`transition-${props.edge.id}`} {...props} edge={props.edge} />;
  return <p className="hint">Select a state or a transition to edit it. Drag from a state's right edge to another state to add a transition.</p>;
}
