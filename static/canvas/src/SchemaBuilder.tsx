// A visual builder for a manual trigger's input schema: one row per field (name, type, required,
// sensitive, example). Sensitive writes `x-sensitive: true`: people without the read-sensitive
// capability see the field's value masked (docs/sensitive-data.md). It writes plain JSON Schema ({"type": "object", "properties": …, "required": …}) and
// keeps what it does not show (titles, enums, nested schemas) as they were.
import { useEffect, useState } from "react";
import type { ControlProps } from "./panelControls";

type Schema = Record<string, unknown>;

const TYPES: [string, string][] = [
  ["string", "Text"],
  ["number", "Number"],
  ["integer", "Whole number"],
  ["boolean", "Yes / no"],
  ["object", "Object (JSON)"],
  ["array", "List (JSON)"],
];

interface Row {
  name: string;
  type: string;
  required: boolean;
  sensitive: boolean;
  // Marked writeOnly (JSON Schema's own word): kept so when the field stays sensitive.
  writeOnly: boolean;
  example: string;
  // The property's other keywords, kept untouched.
  rest: Schema;
}

function exampleText(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function exampleValue(type: string, text: string): unknown {
  if (text.trim() === "") return undefined;
  if (type === "number" || type === "integer") {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  if (type === "boolean") return text.trim() === "true" ? true : text.trim() === "false" ? false : text;
  if (type === "object" || type === "array") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function rowsOf(value: unknown): Row[] {
  const schema = value && typeof value === "object" && !Array.isArray(value) ? (value as Schema) : {};
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(properties).map(([name, property]) => {
    const { type, examples, "x-sensitive": marked, writeOnly, ...rest } = property ?? {};
    return {
      name,
      type: typeof type === "string" ? type : "string",
      required: required.has(name),
      sensitive: marked === true || writeOnly === true,
      writeOnly: writeOnly === true,
      example: Array.isArray(examples) ? exampleText(examples[0]) : "",
      rest,
    };
  });
}

function schemaOf(rows: Row[], previous: unknown): Schema | undefined {
  const kept = rows.filter((row) => row.name.trim() !== "");
  const before = previous && typeof previous === "object" && !Array.isArray(previous) ? (previous as Schema) : {};
  if (!kept.length && !Object.keys(before).length) return undefined;
  const { properties: _properties, required: _required, ...other } = before;
  const properties: Record<string, Schema> = {};
  for (const row of kept) {
    const example = exampleValue(row.type, row.example);
    const marks = row.sensitive ? { "x-sensitive": true, ...(row.writeOnly ? { writeOnly: true } : {}) } : {};
    properties[row.name.trim()] = { ...row.rest, type: row.type, ...marks, ...(example === undefined ? {} : { examples: [example] }) };
  }
  const required = kept.filter((row) => row.required).map((row) => row.name.trim());
  return { ...other, type: "object", properties, ...(required.length ? { required } : {}) };
}

export function SchemaBuilder({ id, title, value, disabled, onChange }: ControlProps) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(value));
  const outside = JSON.stringify(value ?? null);
  useEffect(() => {
    if (JSON.stringify(schemaOf(rows, value) ?? null) !== outside) setRows(rowsOf(value));
  }, [outside]);
  const update = (next: Row[], now = false) => {
    setRows(next);
    onChange(schemaOf(next, value), now);
  };
  const set = (index: number, change: Partial<Row>, now = false) =>
    update(rows.map((row, at) => (at === index ? { ...row, ...change } : row)), now);
  return (
    <div className="schema-builder" id={id} role="group" aria-labelledby={`${id}-label`}>
      {rows.length === 0 && <p className="hint">No input fields yet: a run starts with an empty input.</p>}
      {rows.length > 0 && (
        <table className="schema-rows">
          <thead>
            <tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col" title="Masked for people whose role may not read sensitive data">Sensitive</th><th scope="col">Example</th><th scope="col"><span className="visually-hidden">Remove</span></th></tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const known = TYPES.some(([type]) => type === row.type);
              const which = row.name || `field ${index + 1}`;
              return (
                <tr key={index}>
                  <td><input type="text" aria-label={`Field name ${index + 1}`} value={row.name} disabled={disabled} autoComplete="off" pattern="[A-Za-z_][A-Za-z0-9_]*" onChange={(event) => set(index, { name: event.target.value })} /></td>
                  <td>
                    <select aria-label={`Type of ${which}`} value={row.type} disabled={disabled} onChange={(event) => set(index, { type: event.target.value }, true)}>
                      {TYPES.map(([type, label]) => <option key={type} value={type}>{label}</option>)}
                      {!known && <option value={row.type}>{row.type}</option>}
                    </select>
                  </td>
                  <td><input type="checkbox" aria-label={`${which} is required`} checked={row.required} disabled={disabled} onChange={(event) => set(index, { required: event.target.checked }, true)} /></td>
                  <td><input type="checkbox" aria-label={`${which} is sensitive`} checked={row.sensitive} disabled={disabled} onChange={(event) => set(index, { sensitive: event.target.checked }, true)} /></td>
                  <td><input type="text" aria-label={`Example of ${which}`} value={row.example} disabled={disabled} autoComplete="off" onChange={(event) => set(index, { example: event.target.value })} /></td>
                  <td>{!disabled && <button type="button" className="button small" aria-label={`Remove ${which}`} onClick={() => update(rows.filter((_, at) => at !== index), true)}>×</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {!disabled && (
        <button type="button" className="button small" onClick={() => setRows([...rows, { name: "", type: "string", required: false, sensitive: false, writeOnly: false, example: "", rest: {} }])}>
          Add a field to {title.toLowerCase()}
        </button>
      )}
    </div>
  );
}
