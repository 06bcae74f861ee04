// Editors for lists (e-mail recipients, expected statuses), lists of rows (a switch's cases) and
// name → value maps (headers, variables). Each keeps its rows locally, so a half-filled row is not
// lost, and hands the value on without the empty rows.
import { useEffect, useState } from "react";
import { ExpressionEditor } from "./ExpressionEditor";
import type { ControlProps } from "./panelControls";

type Schema = Record<string, unknown>;

function typesOf(schema: Schema): string[] {
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.map(String);
  return [...((schema.anyOf as Schema[]) ?? []), ...((schema.oneOf as Schema[]) ?? [])].flatMap(typesOf);
}

function shownText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// A typed text as its schema wants it: a number where only numbers fit, JSON where any JSON fits.
function readText(schema: Schema, text: string): unknown {
  const types = typesOf(schema);
  const number = Number(text);
  if (types.length && types.every((type) => type === "number" || type === "integer")) {
    return text.trim() !== "" && Number.isFinite(number) ? number : text;
  }
  if (types.includes("string") && !types.includes("object") && !types.includes("array") && !types.includes("boolean")) {
    return (types.includes("number") || types.includes("integer")) && text.trim() !== "" && Number.isFinite(number) ? number : text;
  }
  if (/^\s*(-?\d[\d.eE+-]*|true|false|null|\[.*\]|\{.*\})\s*$/s.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function ItemInput({ schema, value, label, disabled, onChange }: { schema: Schema; value: string; label: string; disabled: boolean; onChange(text: string): void }) {
  if (Array.isArray(schema.enum)) {
    return (
      <select aria-label={label} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)}>
        <option value="">choose…</option>
        {schema.enum.map((option) => <option key={String(option)} value={String(option)}>{String(option)}</option>)}
      </select>
    );
  }
  return <input type="text" aria-label={label} value={value} disabled={disabled} autoComplete="off" onChange={(event) => onChange(event.target.value)} />;
}

// Rows kept as typed; `sync` re-reads them only when the value changed from outside.
function useRows<T>(value: unknown, toRows: (value: unknown) => T[], fromRows: (rows: T[]) => unknown) {
  const [rows, setRows] = useState<T[]>(() => toRows(value));
  const outside = JSON.stringify(value ?? null);
  useEffect(() => {
    if (JSON.stringify(fromRows(rows) ?? null) !== outside) setRows(toRows(value));
  }, [outside]);
  return [rows, setRows] as const;
}

export function ListEditor({ id, title, spec, value, disabled, onChange }: ControlProps) {
  const item = (spec.item ?? {}) as Schema;
  const toRows = (current: unknown) => (Array.isArray(current) ? current.map(shownText) : []);
  const fromRows = (rows: string[]) => {
    const kept = rows.filter((row) => row.trim() !== "").map((row) => readText(item, row.trim()));
    return kept.length ? kept : undefined;
  };
  const [rows, setRows] = useRows(value, toRows, fromRows);
  const [adding, setAdding] = useState("");
  const update = (next: string[], now = false) => {
    setRows(next);
    onChange(fromRows(next), now);
  };
  const add = () => {
    if (!adding.trim()) return;
    update([...rows, adding.trim()], true);
    setAdding("");
  };
  return (
    <div className="list-editor" role="group" aria-labelledby={`${id}-label`}>
      {rows.length > 0 && (
        <ol className="list-rows">
          {rows.map((row, index) => (
            <li key={index}>
              <ItemInput schema={item} value={row} label={`${title} ${index + 1}`} disabled={disabled} onChange={(text) => update(rows.map((old, at) => (at === index ? text : old)))} />
              {!disabled && (
                <button type="button" className="button small" aria-label={`Remove ${title} ${index + 1}`} onClick={() => update(rows.filter((_, at) => at !== index), true)}>Remove</button>
              )}
            </li>
          ))}
        </ol>
      )}
      {!disabled && (
        <div className="list-add">
          {Array.isArray(item.enum) ? (
            <ItemInput schema={item} value={adding} label={`New ${title}`} disabled={disabled} onChange={setAdding} />
          ) : (
            <input
              id={id}
              type="text"
              autoComplete="off"
              aria-label={`New ${title}`}
              placeholder="Type, then Enter"
              value={adding}
              onChange={(event) => setAdding(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === "Enter") {
                  event.preventDefault();
                  add();
                }
              }}
            />
          )}
          <button type="button" className="button small" onClick={add} disabled={!adding.trim()} aria-label={`Add to ${title}`}>Add</button>
        </div>
      )}
    </div>
  );
}

export function RowsEditor({ id, title, node, field, spec, value, disabled, onChange }: ControlProps) {
  const item = (spec.item ?? {}) as Schema;
  const properties = (item.properties ?? {}) as Record<string, Schema>;
  const columns = Object.keys(properties);
  const expressions = new Set((spec.expressions as string[] | undefined) ?? []);
  type Row = Record<string, string>;
  const toRows = (current: unknown): Row[] =>
    Array.isArray(current)
      ? current.map((row) => Object.fromEntries(columns.map((column) => [column, shownText((row as Record<string, unknown>)?.[column])])))
      : [];
  const fromRows = (rows: Row[]) => {
    const kept = rows
      .filter((row) => columns.some((column) => (row[column] ?? "").trim() !== ""))
      .map((row) => Object.fromEntries(columns.filter((column) => (row[column] ?? "") !== "").map((column) => [column, readText(properties[column], row[column])])));
    return kept.length ? kept : undefined;
  };
  const [rows, setRows] = useRows(value, toRows, fromRows);
  const update = (next: Row[], now = false) => {
    setRows(next);
    onChange(fromRows(next), now);
  };
  const name = (column: string) => String(properties[column].title ?? column);
  return (
    <div className="rows-editor" id={id} role="group" aria-labelledby={`${id}-label`}>
      {rows.map((row, index) => (
        <fieldset key={index} className="row-box">
          <legend>{`${title} ${index + 1}`}</legend>
          {columns.map((column) => {
            const set = (text: string) => update(rows.map((old, at) => (at === index ? { ...old, [column]: text } : old)));
            const cell = `${id}-${index}-${column}`;
            // A CEL column (a case's `when`) gets the expression editor, with its suggestions.
            return expressions.has(column) ? (
              <div key={column} className="expression-cell">
                <label htmlFor={cell}>{name(column)}</label>
                <ExpressionEditor id={cell} title={`${name(column)} of ${title} ${index + 1}`} node={node} field={`${field}[${index}].${column}`} spec={{}} value={row[column] ?? ""} disabled={disabled} onChange={(text) => set(typeof text === "string" ? text : "")} />
              </div>
            ) : (
              <label key={column}>
                {name(column)}
                <ItemInput schema={properties[column]} value={row[column] ?? ""} label={`${name(column)} of ${title} ${index + 1}`} disabled={disabled} onChange={set} />
              </label>
            );
          })}
          {!disabled && (
            <button type="button" className="button small" onClick={() => update(rows.filter((_, at) => at !== index), true)}>Remove {`${title} ${index + 1}`}</button>
          )}
        </fieldset>
      ))}
      {!disabled && (
        <button type="button" className="button small" onClick={() => setRows([...rows, {}])}>Add to {title}</button>
      )}
    </div>
  );
}

export function KeyValueEditor({ id, title, spec, value, disabled, onChange }: ControlProps) {
  const valueSchema = (spec.values ?? {}) as Schema;
  type Pair = [string, string];
  const toRows = (current: unknown): Pair[] =>
    current && typeof current === "object" && !Array.isArray(current)
      ? Object.entries(current as Record<string, unknown>).map(([key, item]) => [key, shownText(item)])
      : [];
  const fromRows = (rows: Pair[]) => {
    const kept = rows.filter(([key]) => key.trim() !== "");
    return kept.length ? Object.fromEntries(kept.map(([key, text]) => [key.trim(), readText(valueSchema, text)])) : undefined;
  };
  const [rows, setRows] = useRows(value, toRows, fromRows);
  const update = (next: Pair[], now = false) => {
    setRows(next);
    onChange(fromRows(next), now);
  };
  return (
    <div className="kv-editor" id={id} role="group" aria-labelledby={`${id}-label`}>
      {rows.map(([key, text], index) => (
        <div key={index} className="kv-row">
          <input type="text" aria-label={`${title}: name ${index + 1}`} value={key} disabled={disabled} autoComplete="off" placeholder="name" onChange={(event) => update(rows.map((old, at) => (at === index ? [event.target.value, old[1]] : old)))} />
          <input type="text" aria-label={`${title}: value of ${key || `row ${index + 1}`}`} value={text} disabled={disabled} autoComplete="off" placeholder="value" onChange={(event) => update(rows.map((old, at) => (at === index ? [old[0], event.target.value] : old)))} />
          {!disabled && (
            <button type="button" className="button small" aria-label={`Remove ${key || `row ${index + 1}`}`} onClick={() => update(rows.filter((_, at) => at !== index), true)}>×</button>
          )}
        </div>
      ))}
      {!disabled && (
        <button type="button" className="button small" onClick={() => setRows([...rows, ["", ""]])}>Add to {title}</button>
      )}
    </div>
  );
}
