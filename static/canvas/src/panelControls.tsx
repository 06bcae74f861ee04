// Mounts the rich controls into Django's side panel: the form renders a `.panel-control` slot
// and, after it, the field's plain input (named cfg.<key>) as the JSON view. A control keeps
// that input current and fires `change`, so htmx posts the form exactly as if it was typed.
// htmx morphs the panel after each post; `hx-morph-skip-children` keeps what React drew, and
// attributes named data-ui-* are left alone by the morph (see installPanelControls).
import { createRoot, type Root } from "react-dom/client";
import { useEffect, useState, type ReactNode } from "react";
import { DurationInput } from "./DurationInput";
import { ObjectFields } from "./ObjectFields";
import { ExpressionEditor } from "./ExpressionEditor";
import { KeyValueEditor, ListEditor, RowsEditor } from "./ListEditors";
import { PeoplePicker } from "./PeoplePicker";
import { SchemaBuilder } from "./SchemaBuilder";
import { TestStep } from "./TestStep";

export interface ControlProps {
  id: string;
  title: string;
  node: string;
  field: string;
  spec: Record<string, unknown>;
  value: unknown;
  disabled: boolean;
  // undefined removes the key from the config. Typing passes `now` false: the form is posted
  // when focus leaves the control, not at every key; adding or removing something posts now.
  onChange(value: unknown, now?: boolean): void;
}

const roots = new Map<Element, Root>();
// "JSON view open" per node and field, so it survives re-opening the panel.
const jsonMode = new Set<string>();

function parseRaw(text: string): { value: unknown } | { error: string } {
  if (text.trim() === "") return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// The server writes JSON back in its own layout: equal values count as the same text.
function sameValue(shown: string, wanted: string, textual: boolean): boolean {
  if (shown === wanted || textual) return shown === wanted;
  const a = parseRaw(shown);
  const b = parseRaw(wanted);
  return "value" in a && "value" in b && JSON.stringify(a.value) === JSON.stringify(b.value);
}

// Lets htmx post the form, as if the form's own input had been edited.
function post(input: HTMLInputElement | HTMLTextAreaElement): void {
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

interface SlotProps {
  slot: HTMLElement;
  raw: HTMLInputElement | HTMLTextAreaElement;
  kind: string;
}

// One field's control, with the "Edit as JSON" toggle for the structured ones.
function Slot({ slot, raw, kind }: SlotProps) {
  const field = slot.dataset.key ?? "";
  const node = slot.closest<HTMLElement>("[data-node]")?.dataset.node ?? "";
  const id = slot.dataset.for ?? "";
  const title = slot.dataset.title ?? field;
  const spec = JSON.parse(slot.dataset.spec || "{}") as Record<string, unknown>;
  const disabled = raw.disabled || raw.closest("fieldset")?.disabled === true;
  const textual = kind === "expression" || kind === "duration";
  const modeKey = `${node}/${field}`;
  const [text, setText] = useState(raw.value);
  const [asJson, setAsJson] = useState(jsonMode.has(modeKey));
  const parsed = textual ? { value: text === "" ? undefined : text } : parseRaw(text);

  useEffect(() => {
    // The JSON view is the form's own input: keep the control in step as the user types there.
    const follow = () => setText(raw.value);
    raw.addEventListener("input", follow);
    raw.addEventListener("change", follow);
    return () => {
      raw.removeEventListener("input", follow);
      raw.removeEventListener("change", follow);
    };
  }, [raw]);

  useEffect(() => {
    const fieldBox = slot.closest<HTMLElement>(".field");
    fieldBox?.setAttribute("data-ui-view", asJson ? "json" : "form");
    if (!textual && "error" in parsed) {
      raw.setAttribute("data-ui-invalid", "true");
      raw.setAttribute("aria-invalid", "true");
    } else {
      raw.removeAttribute("data-ui-invalid");
    }
  });

  useEffect(() => {
    // An answer to an earlier post morphs the input back to what the server saw then; a value
    // typed since (kept in data-ui-value, which the morph leaves alone) is put back before any post.
    const restore = () => {
      if (raw.dataset.uiDirty === "true" && raw.dataset.uiValue !== undefined) raw.value = raw.dataset.uiValue;
    };
    const leave = (event: FocusEvent) => {
      if (slot.contains(event.relatedTarget as Node | null) || raw.dataset.uiDirty !== "true") return;
      restore();
      delete raw.dataset.uiDirty;
      post(raw);
    };
    // A post made while the form's previous one is in flight waits for it (the form's
    // hx-sync="this:queue last": the latest waiting post replaces any other, so the last edit is
    // never the one dropped), and the earlier answer morphs the input back meanwhile: once the
    // answers settle, post the control's value again (once).
    const settle = () => {
      const wanted = raw.dataset.uiValue;
      if (wanted === undefined || raw.dataset.uiDirty === "true") return;
      if (sameValue(raw.value, wanted, textual) || raw.dataset.uiReposted === wanted) {
        delete raw.dataset.uiValue;
        delete raw.dataset.uiReposted;
        return;
      }
      raw.dataset.uiReposted = wanted;
      raw.value = wanted;
      post(raw);
    };
    const form = raw.form;
    slot.addEventListener("focusout", leave);
    form?.addEventListener("change", restore, true);
    form?.addEventListener("submit", restore, true);
    document.addEventListener("htmx:after:swap", settle);
    return () => {
      slot.removeEventListener("focusout", leave);
      form?.removeEventListener("change", restore, true);
      form?.removeEventListener("submit", restore, true);
      document.removeEventListener("htmx:after:swap", settle);
    };
  }, [slot, raw, textual]);

  const change = (value: unknown, now = false) => {
    const next = value === undefined ? "" : textual ? String(value) : JSON.stringify(value, null, 2);
    setText(next);
    if (raw.value === next && raw.dataset.uiDirty !== "true") return;
    raw.value = next;
    raw.dataset.uiValue = next;
    if (now) {
      delete raw.dataset.uiDirty;
      post(raw);
    } else {
      raw.dataset.uiDirty = "true";
    }
  };
  const toggle = () => {
    const next = !asJson;
    if (next) jsonMode.add(modeKey);
    else jsonMode.delete(modeKey);
    setAsJson(next);
    if (next) window.requestAnimationFrame(() => raw.focus());
  };
  const props: ControlProps = { id, title, node, field, spec, value: "value" in parsed ? parsed.value : undefined, disabled, onChange: change };
  let control: ReactNode;
  if (kind === "people") control = <PeoplePicker {...props} />;
  else if (kind === "list") control = <ListEditor {...props} />;
  else if (kind === "rows") control = <RowsEditor {...props} />;
  else if (kind === "keyvalue") control = <KeyValueEditor {...props} />;
  else if (kind === "fields") control = <ObjectFields {...props} />;
  else if (kind === "schema") control = <SchemaBuilder {...props} />;
  else if (kind === "duration") control = <DurationInput {...props} />;
  else if (kind === "expression") control = <ExpressionEditor {...props} />;
  else return null;

  return (
    <>
      {!textual && (
        <button type="button" className="link-button json-toggle" aria-pressed={asJson} onClick={toggle}>
          {asJson ? "Use the form" : "Edit as JSON"}
        </button>
      )}
      {"error" in parsed && !textual ? (
        // Never drop the user's text: the form waits until the JSON view parses again.
        <p className="problem-text" role="alert" id={`${id}-json-error`} data-testid={`json-error-${field}`}>
          The JSON is not valid ({parsed.error}); fix it in the JSON view.
        </p>
      ) : (
        !asJson && <div className="control-body">{control}</div>
      )}
    </>
  );
}

function mountSlot(slot: HTMLElement): void {
  const kind = slot.dataset.control ?? "";
  // The controls' own inputs are not the form's: their native change events must not make htmx
  // post half-built values. (React listens on the slot itself, so it still sees them.)
  slot.addEventListener("change", (event) => event.stopPropagation());
  if (kind === "test-step") {
    const node = slot.closest<HTMLElement>("[data-node]")?.dataset.node ?? "";
    const type = slot.closest<HTMLFormElement>("form")?.querySelector<HTMLInputElement>("input[name=node_type]")?.value ?? "";
    const root = createRoot(slot);
    root.render(<TestStep node={node} nodeType={type} />);
    roots.set(slot, root);
    return;
  }
  const raw = slot.parentElement?.querySelector<HTMLInputElement | HTMLTextAreaElement>(".raw-view input, .raw-view textarea");
  if (!raw) return;
  const root = createRoot(slot);
  root.render(<Slot slot={slot} raw={raw} kind={kind} />);
  roots.set(slot, root);
}

// Mounts controls into new slots and unmounts those the panel dropped.
function scan(panel: HTMLElement): void {
  for (const [element, root] of roots) {
    if (!element.isConnected) {
      roots.delete(element);
      root.unmount();
    }
  }
  for (const slot of panel.querySelectorAll<HTMLElement>(".panel-control")) {
    if (!roots.has(slot)) mountSlot(slot);
  }
}

declare global {
  interface Window {
    htmx?: { process(element: Element): void; config?: { morphIgnore?: string[] } };
  }
}

export function installPanelControls(): void {
  const panel = document.getElementById("panel");
  if (!panel) return;
  const config = window.htmx?.config;
  if (config && !(config.morphIgnore ?? []).includes("data-ui-")) {
    config.morphIgnore = [...(config.morphIgnore ?? []), "data-ui-"];
  }
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      scan(panel);
    });
  }).observe(panel, { childList: true, subtree: true });
  scan(panel);
}
