// Inputs generated from a workflow's input schema (one per property, its example prefilled), or
// one JSON box when the schema lists no properties. Used to test a step and to test-run a draft.
import { useState, type ReactElement } from "react";

type Property = { type?: string | string[]; title?: string; description?: string; enum?: unknown[]; default?: unknown; examples?: unknown[] };

function kindOf(property: Property): string {
  const type = Array.isArray(property.type) ? property.type[0] : property.type;
  if (property.enum) return "enum";
  return type === "string" || type === "number" || type === "integer" || type === "boolean" ? type : "json";
}

function startText(property: Property): string {
  const start = property.default !== undefined ? property.default : property.examples?.[0];
  if (start === undefined) return "";
  return typeof start === "string" ? start : JSON.stringify(start);
}

export interface InputFormState {
  // The input the form describes, or an error naming the field.
  build(): { input: unknown } | { error: string };
  element: ReactElement;
}

export function useInputForm(idPrefix: string, schema: Record<string, unknown> | null): InputFormState {
  const properties = (schema?.properties ?? {}) as Record<string, Property>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((name) => [name, startText(properties[name])])),
  );
  const [raw, setRaw] = useState("{}");

  const build = (): { input: unknown } | { error: string } => {
    if (!names.length) {
      try {
        return { input: JSON.parse(raw || "{}") };
      } catch (error) {
        return { error: `The input is not valid JSON (${error instanceof Error ? error.message : error}).` };
      }
    }
    const input: Record<string, unknown> = {};
    for (const name of names) {
      const text = values[name] ?? "";
      const kind = kindOf(properties[name]);
      if (kind === "boolean") {
        input[name] = text === "true";
        continue;
      }
      if (text === "") continue;
      if (kind === "number" || kind === "integer") {
        const number = Number(text);
        if (!Number.isFinite(number)) return { error: `${name}: must be a number` };
        input[name] = number;
      } else if (kind === "json") {
        try {
          input[name] = JSON.parse(text);
        } catch {
          return { error: `${name}: is not valid JSON` };
        }
      } else input[name] = text;
    }
    return { input };
  };

  const element = (
    <div className="input-form">
      {names.length === 0 && (
        <label htmlFor={`${idPrefix}-raw`}>Input (JSON)
          <textarea id={`${idPrefix}-raw`} className="json" rows={3} spellCheck={false} value={raw} onChange={(e) => setRaw(e.target.value)} />
        </label>
      )}
      {names.map((name) => {
        const property = properties[name];
        const kind = kindOf(property);
        const id = `${idPrefix}-${name.replace(/[^A-Za-z0-9]/g, "-")}`;
        const label = `${property.title ?? name}${required.has(name) ? " *" : ""}`;
        const set = (value: string) => setValues((current) => ({ ...current, [name]: value }));
        if (kind === "boolean") {
          return <label key={name} htmlFor={id}><input id={id} type="checkbox" checked={values[name] === "true"} onChange={(e) => set(String(e.target.checked))} /> {label}</label>;
        }
        if (kind === "enum") {
          return (
            <label key={name} htmlFor={id}>{label}
              <select id={id} value={values[name]} onChange={(e) => set(e.target.value)}>
                <option value="">choose…</option>
                {(property.enum ?? []).map((o) => <option key={String(o)} value={String(o)}>{String(o)}</option>)}
              </select>
            </label>
          );
        }
        if (kind === "json") {
          return <label key={name} htmlFor={id}>{label} (JSON)<textarea id={id} className="json" rows={2} value={values[name]} onChange={(e) => set(e.target.value)} /></label>;
        }
        return (
          <label key={name} htmlFor={id}>{label}
            <input id={id} type={kind === "string" ? "text" : "number"} step={kind === "integer" ? 1 : "any"} value={values[name]} onChange={(e) => set(e.target.value)} />
          </label>
        );
      })}
    </div>
  );
  return { build, element };
}
