// A CEL field with the names in scope as suggestions, the server's problems inline as you type,
// and a preview evaluated against sample data; all three come from one debounced call to the
// draft's expressions/check endpoint (absent on an older server: the field is then a plain line).
import { useEffect, useId, useRef, useState } from "react";
import { checkExpression, missing, reason, type ExpressionCheck, type ScopeName } from "./designerApi";
import { panelContext } from "./panelContext";
import type { ControlProps } from "./panelControls";

const DEBOUNCE_MS = 300;

// The dotted name being typed just before the caret: "input.am" in "input.am > 3".
export function wordAt(text: string, caret: number): { start: number; word: string } {
  const found = /[A-Za-z_][\w.]*$/.exec(text.slice(0, caret));
  return found ? { start: caret - found[0].length, word: found[0] } : { start: caret, word: "" };
}

function shownValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "null";
}

export function ExpressionEditor({ id, title, node, field, value, disabled, onChange }: ControlProps) {
  const [text, setText] = useState(typeof value === "string" ? value : "");
  // Edited elsewhere (the JSON view): show the new text.
  useEffect(() => {
    const outside = typeof value === "string" ? value : "";
    if (outside !== text) setText(outside);
  }, [value]);
  const [check, setCheck] = useState<ExpressionCheck | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [failure, setFailure] = useState("");
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [sampleText, setSampleText] = useState("");
  // Checked once the designer works on it: opening a panel asks the server nothing.
  const [engaged, setEngaged] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const asked = useRef(0);

  const sample = (() => {
    if (!sampleText.trim()) return { value: undefined as unknown };
    try {
      return { value: JSON.parse(sampleText) as unknown };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  })();

  useEffect(() => {
    if (!engaged || unavailable || !panelContext.slug || !node) return undefined;
    const ticket = ++asked.current;
    const timer = window.setTimeout(() => {
      const body = { node, field, expression: text, ...("value" in sample && sample.value !== undefined ? { sample: sample.value } : {}) };
      checkExpression(panelContext.slug, body)
        .then((answer) => {
          if (ticket !== asked.current) return;
          setCheck(answer);
          setFailure("");
        })
        .catch((error) => {
          if (ticket !== asked.current) return;
          if (missing(error)) setUnavailable(true);
          else setFailure(`Could not check: ${reason(error)}`);
        });
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [engaged, text, sampleText, node, field, unavailable]);

  const { start, word } = wordAt(text, caret);
  const suggestions: ScopeName[] = word
    ? (check?.scope ?? []).filter((name) => name.name.startsWith(word) && name.name !== word).slice(0, 12)
    : [];
  const expanded = open && suggestions.length > 0 && !disabled;
  const problems = text.trim() ? (check?.problems ?? []) : [];
  const describedBy = [problems.length ? `${id}-problems` : "", `${id}-preview`].filter(Boolean).join(" ");

  const edit = (next: string, at: number) => {
    setText(next);
    setCaret(at);
    onChange(next === "" ? undefined : next);
  };
  const accept = (name: ScopeName) => {
    const next = text.slice(0, start) + name.name + text.slice(caret);
    const at = start + name.name.length;
    edit(next, at);
    setOpen(false);
    window.requestAnimationFrame(() => input.current?.setSelectionRange(at, at));
  };

  return (
    <div className="expression-editor">
      <div className="combo">
        <input
          ref={input}
          id={id}
          type="text"
          className="expression"
          role="combobox"
          spellCheck={false}
          autoComplete="off"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded ? `${listId}-${active}` : undefined}
          aria-invalid={problems.length > 0 || undefined}
          aria-describedby={describedBy}
          placeholder="e.g. input.amount > 1000"
          value={text}
          disabled={disabled}
          onChange={(event) => {
            edit(event.target.value, event.target.selectionStart ?? event.target.value.length);
            setOpen(true);
            setActive(0);
          }}
          onKeyUp={(event) => setCaret(event.currentTarget.selectionStart ?? text.length)}
          onClick={(event) => setCaret(event.currentTarget.selectionStart ?? text.length)}
          onFocus={() => setEngaged(true)}
          onBlur={() => window.setTimeout(() => setOpen(false), 150)}
          onKeyDown={(event) => {
            if (expanded && event.key === "ArrowDown") {
              event.preventDefault();
              setActive((active + 1) % suggestions.length);
            } else if (expanded && event.key === "ArrowUp") {
              event.preventDefault();
              setActive((active - 1 + suggestions.length) % suggestions.length);
            } else if (expanded && (event.key === "Enter" || event.key === "Tab")) {
              event.preventDefault();
              accept(suggestions[active]);
            } else if (event.key === "Escape") {
              setOpen(false);
            } else if (event.key === "Enter") {
              event.preventDefault(); // posting is the blur's job; Enter must not submit the form
              event.currentTarget.blur();
            }
          }}
        />
        <ul id={listId} role="listbox" className="combo-list" aria-label={`Names for ${title}`} hidden={!expanded}>
          {suggestions.map((name, index) => (
            <li
              key={name.name}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              className={index === active ? "active" : undefined}
              onMouseDown={(event) => {
                event.preventDefault();
                accept(name);
              }}
            >
              <code>{name.name}</code> <small>{name.type}</small>
              {name.doc && <small className="hint"> {name.doc}</small>}
            </li>
          ))}
        </ul>
      </div>
      {problems.length > 0 && (
        <ul className="problem-text expression-problems" id={`${id}-problems`} data-testid={`expression-problems-${field}`} aria-live="polite">
          {problems.map((problem, index) => (
            <li key={index}>{problem.position === null ? "" : `at ${problem.position + 1}: `}{problem.message}</li>
          ))}
        </ul>
      )}
      {failure && <small className="problem-text">{failure}</small>}
      <div className="expression-preview" id={`${id}-preview`} aria-live="polite" data-testid={`expression-preview-${field}`}>
        {unavailable ? null : check?.preview && "value" in check.preview ? (
          <small>Preview: <code>{shownValue(check.preview.value)}</code></small>
        ) : check?.preview && "error" in check.preview ? (
          <small className="problem-text">Preview: {check.preview.error}</small>
        ) : null}
      </div>
      {!unavailable && (
        <details className="expression-sample">
          <summary>Sample data for the preview</summary>
          <label htmlFor={`${id}-sample`}>Sample (JSON: input, vars, nodes)</label>
          <textarea
            id={`${id}-sample`}
            className="json"
            rows={3}
            spellCheck={false}
            placeholder='{"input": {"amount": 1200}}'
            value={sampleText}
            aria-invalid={"error" in sample || undefined}
            onChange={(event) => setSampleText(event.target.value)}
          />
          {"error" in sample && <small className="problem-text">The sample is not valid JSON ({sample.error}).</small>}
        </details>
      )}
    </div>
  );
}
