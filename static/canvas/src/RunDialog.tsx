// Start a run with an input form generated from the manual trigger's input schema.
import { useEffect, useRef, useState } from "react";

interface Props {
  schema: Record<string, unknown> | null;
  publishedVersion: number | null;
  onStart(input: unknown): Promise<string | null>;
  onClose(): void;
}

type Property = { type?: string | string[]; title?: string; description?: string; enum?: unknown[]; default?: unknown };

function kindOf(property: Property): string {
  const type = Array.isArray(property.type) ? property.type[0] : property.type;
  if (property.enum) return "enum";
  return type === "string" || type === "number" || type === "integer" || type === "boolean" ? type : "json";
}

export default function RunDialog({ schema, publishedVersion, onStart, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const properties = (schema?.properties ?? {}) as Record<string, Property>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((name) => {
      const fallback = properties[name].default;
      return [name, fallback === undefined ? "" : typeof fallback === "string" ? fallback : JSON.stringify(fallback)];
    })),
  );
  const [raw, setRaw] = useState("{}");
  const [message, setMessage] = useState("");
  useEffect(() => ref.current?.showModal(), []);
  const build = (): unknown => {
    if (!names.length) return JSON.parse(raw || "null");
    const input: Record<string, unknown> = {};
    for (const name of names) {
      const text = values[name] ?? "";
      const kind = kindOf(properties[name]);
      if (kind === "boolean") { input[name] = text === "true"; continue; }
      if (text === "") continue;
      if (kind === "number" || kind === "integer") input[name] = Number(text);
      else if (kind === "json") input[name] = JSON.parse(text);
      else input[name] = text;
    }
    return input;
  };
  const submit = async () => {
    let input: unknown;
    try { input = build(); } catch (error) { setMessage(`The input is not valid JSON: ${error}`); return; }
    setMessage("Starting…");
    const problem = await onStart(input);
    if (problem) setMessage(problem);
    else ref.current?.close();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="run-title" onClose={onClose}>
      <h2 id="run-title">Start a run</h2>
      <p className="hint">
        {publishedVersion ? `The run uses the published version v${publishedVersion}.` : "Publish the workflow first: runs use a published version."}
      </p>
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }} className="stack">
        {names.length === 0 && (
          <label>Input (JSON)<textarea className="json" rows={4} value={raw} onChange={(e) => setRaw(e.target.value)} /></label>
        )}
        {names.map((name) => {
          const property = properties[name];
          const kind = kindOf(property);
          const label = `${property.title ?? name}${required.has(name) ? " *" : ""}`;
          const set = (value: string) => setValues({ ...values, [name]: value });
          if (kind === "boolean") {
            return <label key={name}><input type="checkbox" checked={values[name] === "true"} onChange={(e) => set(String(e.target.checked))} /> {label}</label>;
          }
          if (kind === "enum") {
            return <label key={name}>{label}<select value={values[name]} onChange={(e) => set(e.target.value)}><option value="">choose…</option>{(property.enum ?? []).map((o) => <option key={String(o)} value={String(o)}>{String(o)}</option>)}</select></label>;
          }
          if (kind === "json") {
            return <label key={name}>{label} (JSON)<textarea className="json" rows={3} value={values[name]} onChange={(e) => set(e.target.value)} /></label>;
          }
          return (
            <label key={name}>{label}
              <input type={kind === "string" ? "text" : "number"} step={kind === "integer" ? 1 : "any"} value={values[name]} required={required.has(name)} onChange={(e) => set(e.target.value)} />
            </label>
          );
        })}
        <p role="status" className="hint">{message}</p>
        <div className="row">
          <button type="submit" className="button primary" disabled={!publishedVersion}>Start</button>
          <button type="button" className="button" onClick={() => ref.current?.close()}>Cancel</button>
        </div>
      </form>
    </dialog>
  );
}
