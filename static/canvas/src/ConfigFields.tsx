// A typed form over a node type's config JSON Schema, one input per property, chosen as the
// graph's side panel chooses them (designer/panel.py): a select for an enum, a line for text, a
// number input, a checkbox, one line for "a number or text" (90 or "48h"), and JSON only for a
// property no simple input can hold. Empty removes the key, so defaults apply.
import { useState } from "react";
import CommitInput from "./CommitInput";

type Schema = Record<string, unknown>;
type Widget = "text" | "textarea" | "number" | "integer" | "checkbox" | "select" | "scalar" | "json";

const LONG_TEXT = new Set(["body", "html", "prompt", "system", "description", "output", "context"]);

function typesOf(schema: Schema): string[] {
  const kind = schema.type;
  if (typeof kind === "string") return [kind];
  if (Array.isArray(kind)) return kind.map(String);
  const found: string[] = [];
  for (const option of [...((schema.anyOf as Schema[]) ?? []), ...((schema.oneOf as Schema[]) ?? [])]) {
    for (const name of typesOf(option)) if (!found.includes(name)) found.push(name);
  }
  return found;
}

export function widgetFor(key: string, schema: Schema): Widget {
  if (Array.isArray(schema.enum) && schema.enum.every((option) => typeof option === "string")) return "select";
  const types = typesOf(schema).sort().join(",");
  if (types === "string") return LONG_TEXT.has(key) || Number(schema.maxLength ?? 0) > 500 ? "textarea" : "text";
  if (types === "integer" || types === "number") return types;
  if (types === "boolean") return "checkbox";
  if (types === "number,string" || types === "integer,string") return "scalar";
  return "json";
}

function shown(widget: Widget, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (widget === "json") return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return String(value);
}

// The value a text means, or an error to show; undefined removes the key.
function parse(widget: Widget, schema: Schema, text: string): { value: unknown } | { error: string } {
  if (text.trim() === "") return { value: undefined };
  if (widget === "text" || widget === "textarea" || widget === "select") return { value: text };
  const number = Number(text);
  if (widget === "scalar") return { value: text.trim() !== "" && Number.isFinite(number) ? number : text.trim() };
  if (widget === "integer" || widget === "number") {
    if (!Number.isFinite(number)) return { error: `must be ${widget === "integer" ? "a whole number" : "a number"}` };
    if (widget === "integer" && !Number.isInteger(number)) return { error: "must be a whole number" };
    return { value: number };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    if (typesOf(schema).includes("string")) return { value: text };
    return { error: `is not valid JSON (${error instanceof Error ? error.message : error})` };
  }
}

interface FieldProps {
  id: string;
  name: string;
  schema: Schema;
  required: boolean;
  value: unknown;
  problems: string[];
  disabled: boolean;
  onChange(value: unknown): void;
}

function ConfigField({ id, name, schema, required, value, problems, disabled, onChange }: FieldProps) {
  const widget = widgetFor(name, schema);
  const [error, setError] = useState("");
  const title = String(schema.title ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()));
  const messages = error ? [error, ...problems] : problems;
  const invalid = messages.length > 0;
  const describedBy = invalid ? `${id}-problem` : undefined;
  const commit = (text: string) => {
    const parsed = parse(widget, schema, text);
    if ("error" in parsed) return setError(parsed.error);
    setError("");
    onChange(parsed.value);
  };
  let input;
  if (widget === "checkbox") {
    input = (
      <label className="check">
        <input type="checkbox" id={id} checked={Boolean(value)} disabled={disabled} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(event) => onChange(event.target.checked)} /> {title}
      </label>
    );
  } else if (widget === "select") {
    input = (
      <select id={id} value={shown(widget, value)} disabled={disabled} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(event) => commit(event.target.value)}>
        <option value="">{required ? "choose…" : "(default)"}</option>
        {(schema.enum as string[]).map((option) => <option key={option} value={option}>{option}</option>)}
      </select>
    );
  } else {
    input = (
      <CommitInput
        id={id}
        value={shown(widget, value)}
        multiline={widget === "textarea" || widget === "json"}
        className={widget === "json" ? "json" : undefined}
        placeholder={widget === "json" ? "JSON" : undefined}
        disabled={disabled}
        invalid={invalid}
        describedBy={describedBy}
        onCommit={commit}
      />
    );
  }
  return (
    <div className={`field${invalid ? " has-problem" : ""}`} data-field={name}>
      {widget !== "checkbox" && (
        <label htmlFor={id}>{title}{required && <span className="required" title="required"> *</span>}</label>
      )}
      {input}
      {typeof schema.description === "string" && <small className="hint">{schema.description}</small>}
      {invalid && <small className="problem-text" id={`${id}-problem`}>{messages.join("; ")}</small>}
    </div>
  );
}

interface Props {
  // Unique among the page's inputs: the fields' ids start with it.
  idPrefix: string;
  schema: Schema;
  config: Record<string, unknown>;
  // Messages by config key.
  problems: Map<string, string[]>;
  disabled: boolean;
  onChange(config: Record<string, unknown>): void;
}

export default function ConfigFields({ idPrefix, schema, config, problems, disabled, onChange }: Props) {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return (
    <>
      {Object.entries(properties).map(([name, property]) => (
        <ConfigField
          key={name}
          id={`${idPrefix}-${name.replace(/[^A-Za-z0-9]/g, "-")}`}
          name={name}
          schema={property}
          required={required.has(name)}
          value={config[name]}
          problems={problems.get(name) ?? []}
          disabled={disabled}
          onChange={(value) => {
            const next = { ...config };
            if (value === undefined) delete next[name];
            else next[name] = value;
            if (JSON.stringify(next) !== JSON.stringify(config)) onChange(next);
          }}
        />
      ))}
    </>
  );
}
