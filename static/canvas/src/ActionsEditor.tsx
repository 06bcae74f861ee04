// A list of actions ({type, config}) for a state's entry or exit or a transition: each with its
// node type and a typed form of that type's config; added, removed and reordered.
import { useState } from "react";
import ConfigFields from "./ConfigFields";
import type { MachineAction } from "./machine";
import type { NodeTypeInfo, Problem } from "./types";

interface Props {
  // The field of the state or transition: entry, exit or actions.
  field: string;
  legend: string;
  idPrefix: string;
  actions: MachineAction[];
  types: NodeTypeInfo[];
  // The owner's problems; those under `field` are shown at their action and input.
  problems: Problem[];
  disabled: boolean;
  onChange(actions: MachineAction[]): void;
}

interface ActionProblems {
  type: string[];
  general: string[];
  byKey: Map<string, string[]>;
}

function problemsOfAction(problems: Problem[], field: string, index: number): ActionProblems {
  const found: ActionProblems = { type: [], general: [], byKey: new Map() };
  const prefix = `${field}[${index}]`;
  for (const problem of problems) {
    const where = problem.field ?? "";
    if (where !== prefix && !where.startsWith(`${prefix}.`)) continue;
    const rest = where.slice(prefix.length + 1);
    if (rest === "type") found.type.push(problem.message);
    else if (rest.startsWith("config.")) {
      const [key, ...inner] = rest.slice("config.".length).split(/[.[]/);
      const message = inner.length ? `${rest.slice("config.".length + key.length + 1)}: ${problem.message}` : problem.message;
      found.byKey.set(key, [...(found.byKey.get(key) ?? []), message]);
    } else found.general.push(rest ? `${rest}: ${problem.message}` : problem.message);
  }
  return found;
}

export default function ActionsEditor({ field, legend, idPrefix, actions, types, problems, disabled, onChange }: Props) {
  const [adding, setAdding] = useState(types[0]?.type ?? "");
  const byType = new Map(types.map((info) => [info.type, info]));
  const replace = (index: number, action: MachineAction | null) =>
    onChange(action ? actions.map((item, at) => (at === index ? action : item)) : actions.filter((_, at) => at !== index));
  const swap = (index: number, other: number) => {
    const next = [...actions];
    [next[index], next[other]] = [next[other], next[index]];
    onChange(next);
  };
  return (
    <fieldset className="actions-editor" data-testid={`actions-${field}`}>
      <legend>{legend}</legend>
      {actions.length === 0 && <p className="hint">None.</p>}
      <ol>
        {actions.map((action, index) => {
          const info = byType.get(action.type);
          const found = problemsOfAction(problems, field, index);
          const id = `${idPrefix}-${field}-${index}`;
          const ordinal = `${legend.replace(/s$/, "").toLowerCase()} ${index + 1}`;
          return (
            <li key={index} className="action-item" aria-label={`${ordinal}: ${info?.title ?? action.type}`}>
              <div className={`field${found.type.length ? " has-problem" : ""}`}>
                <label htmlFor={`${id}-type`}>Action type</label>
                <select
                  id={`${id}-type`}
                  value={action.type}
                  disabled={disabled}
                  onChange={(event) => replace(index, { type: event.target.value, config: {} })}
                >
                  {!info && <option value={action.type}>{action.type}</option>}
                  {types.map((option) => <option key={option.type} value={option.type}>{option.title}</option>)}
                </select>
                {found.type.length > 0 && <small className="problem-text">{found.type.join("; ")}</small>}
              </div>
              {info && (
                <ConfigFields
                  idPrefix={`${id}-config`}
                  schema={info.config_schema}
                  config={action.config ?? {}}
                  problems={found.byKey}
                  disabled={disabled}
                  onChange={(config) => replace(index, { ...action, config })}
                />
              )}
              {found.general.length > 0 && <ul className="problems">{found.general.map((message, at) => <li key={at}>{message}</li>)}</ul>}
              {!disabled && (
                <div className="row">
                  <button type="button" className="button" disabled={index === 0} onClick={() => swap(index, index - 1)} aria-label={`Move ${ordinal} up`}>Up</button>
                  <button type="button" className="button" disabled={index === actions.length - 1} onClick={() => swap(index, index + 1)} aria-label={`Move ${ordinal} down`}>Down</button>
                  <button type="button" className="button danger" onClick={() => replace(index, null)} aria-label={`Remove ${ordinal}`}>Remove</button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {!disabled && types.length > 0 && (
        <div className="row add-action">
          <label className="visually-hidden" htmlFor={`${idPrefix}-${field}-new`}>Type of the new {legend.toLowerCase().replace(/s$/, "")}</label>
          <select id={`${idPrefix}-${field}-new`} value={adding} onChange={(event) => setAdding(event.target.value)}>
            {types.map((option) => <option key={option.type} value={option.type}>{option.title}</option>)}
          </select>
          <button type="button" className="button" onClick={() => onChange([...actions, { type: adding, config: {} }])}>
            Add {legend.toLowerCase().replace(/s$/, "")}
          </button>
        </div>
      )}
    </fieldset>
  );
}
