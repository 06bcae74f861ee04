// A small object of settings (a node's retry, circuit breaker, rate limit or bulkhead) as labelled fields: text,
// whole numbers, choices and durations, each by its schema; no JSON to type. Empty fields are
// left out of the value; with every field empty the option is removed.
import type { ControlProps } from "./panelControls";
import { DurationInput } from "./DurationInput";

type Schema = Record<string, unknown>;

function isDuration(schema: Schema): boolean {
  const options = (schema.anyOf ?? []) as Schema[];
  return options.some((option) => option.type === "string" && String(option.pattern ?? "").includes("ms|s|m|h|d|w"));
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
