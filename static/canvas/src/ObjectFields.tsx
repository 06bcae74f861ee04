// A small object of settings (a node's retry, circuit breaker, rate limit or bulkhead) as labelled fields: text,
// whole numbers, choices, sets of choices (checkboxes) and durations, each by its schema; no JSON
// to type. Empty fields are left out of the value; with every field empty the option is removed.
import type { ControlProps } from "./panelControls";
import { DurationInput } from "./DurationInput";

type Schema = Record<string, unknown>;

function isDuration(schema: Schema): boolean {
  const options = (schema.anyOf ?? []) as Schema[];
  return options.some((option) => option.type === "string" && String(option.pattern ?? "").includes("ms|s|m|h|d|w"));
}

// A list of distinct choices (the retry's error kinds) as one checkbox per choice, labelled by the
// schema's `x-enum-titles`; kept in the schema's order, and left out when none is ticked.
function ChoiceSet({ id, label, schema, value, disabled, onChange }: { id: string; label: string; schema: Schema; value: unknown; disabled?: boolean; onChange: (next: unknown) => void }) {
  const options = ((schema.items as Schema | undefined)?.enum ?? []) as unknown[];
  const titles = (schema["x-enum-titles"] ?? {}) as Record<string, string>;
  const ticked = new Set(Array.isArray(value) ? value.map(String) : []);
  const toggle = (option: string, on: boolean) => {
    const next = new Set(ticked);
    if (on) next.add(option);
    else next.delete(option);
    // Entries the schema does not know are kept, for validation to name.
    const known = options.map(String);
    const chosen = [...known.filter((item) => next.has(item)), ...[...next].filter((item) => !known.includes(item))];
    onChange(chosen.length ? chosen : undefined);
  };
  return (
    <fieldset className="choice-set" id={id}>
      <legend>{label}</legend>
      {options.map((option) => {
        const name = String(option);
        const optionId = `${id}-${name}`;
        return (
          <div className="choice" key={name}>
            <input id={optionId} type="checkbox" checked={ticked.has(name)} disabled={disabled} onChange={(event) => toggle(name, event.target.checked)} />
            <label htmlFor={optionId}>{titles[name] ?? name}</label>
          </div>
        );
      })}
    </fieldset>
  );
}

export function ObjectFields({ id, title, spec, value, disabled, onChange }: ControlProps) {
  const properties = (spec.properties ?? {}) as Record<string, Schema>;
  const required = new Set((spec.required ?? []) as string[]);
  const current = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const set = (name: string, next: unknown, now = false) => {
    const updated: Record<string, unknown> = { ...current };
    if (next === undefined || next === "") delete updated[name];
    else updated[name] = next;
    onChange(Object.keys(updated).length ? updated : undefined, now);
  };
  return (
    <fieldset className="object-fields" aria-label={title}>
      {Object.entries(properties).map(([name, schema]) => {
        const fieldId = `${id}-${name}`;
        const label = String(schema.title ?? name);
        const shown = current[name];
        if (schema.type === "array" && Array.isArray((schema.items as Schema | undefined)?.enum)) {
          return (
            <div className="object-field" key={name}>
              <ChoiceSet id={fieldId} label={label} schema={schema} value={shown} disabled={disabled} onChange={(next) => set(name, next, true)} />
              {typeof schema.description === "string" && <p className="hint">{schema.description}</p>}
            </div>
          );
        }
        let input;
        if (isDuration(schema)) {
          input = <DurationInput id={fieldId} title={label} node="" field={name} spec={{}} value={shown} disabled={disabled} onChange={(next, now) => set(name, next, now)} />;
        } else if (Array.isArray(schema.enum)) {
          input = (
            <select id={fieldId} value={String(shown ?? schema.default ?? "")} disabled={disabled} onChange={(event) => set(name, event.target.value, true)}>
              {(schema.enum as unknown[]).map((option) => <option key={String(option)} value={String(option)}>{String(option)}</option>)}
            </select>
          );
        } else if (schema.type === "integer" || schema.type === "number") {
          input = (
            <input id={fieldId} type="number" inputMode="numeric" step={schema.type === "integer" ? 1 : "any"} min={schema.minimum as number | undefined} max={schema.maximum as number | undefined} placeholder={schema.default === undefined ? "" : String(schema.default)} value={shown === undefined ? "" : String(shown)} disabled={disabled}
              onChange={(event) => {
                const text = event.target.value.trim();
                const number = Number(text);
                // Anything unreadable is kept as typed, for validation to name.
                set(name, text === "" ? undefined : Number.isFinite(number) ? number : text);
              }} />
          );
        } else {
          input = <input id={fieldId} type="text" value={shown === undefined ? "" : String(shown)} disabled={disabled} onChange={(event) => set(name, event.target.value)} />;
        }
        return (
          <div className="object-field" key={name}>
            <label htmlFor={fieldId}>{label}{required.has(name) && <span aria-hidden="true"> *</span>}</label>
            {input}
            {typeof schema.description === "string" && <p className="hint">{schema.description}</p>}
          </div>
        );
      })}
    </fieldset>
  );
}
