// Adding a transition: asked for what takes it (an event's name, a delay, or nothing) once an
// edge was drawn between two states, or with the target too when opened from the keyboard (C).
import { useEffect, useRef, useState } from "react";
import type { StateNode, TriggerKind } from "./machine";

interface Props {
  from: StateNode;
  // Drawn with the mouse: the target is known.
  to: string | null;
  nodes: StateNode[];
  // Adds the transition, or answers why it may not be added.
  onConnect(target: string, kind: TriggerKind, value: string): string | null;
  onClose(): void;
}

const describe = (node: StateNode) => (node.data.label ? `${node.data.label} (${node.id})` : node.id);

export default function TransitionDialog({ from, to, nodes, onConnect, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [target, setTarget] = useState(to ?? nodes.find((node) => node.id !== from.id)?.id ?? from.id);
  const [kind, setKind] = useState<TriggerKind>("event");
  const [value, setValue] = useState("");
  const [message, setMessage] = useState("");
  useEffect(() => ref.current?.showModal(), []);
  const submit = () => {
    const reason = onConnect(target, kind, value);
    if (reason) setMessage(`Not added: ${reason}.`);
    // Closed by unmounting at once, as the Connect dialog is (see ConnectDialog).
    else onClose();
  };
  const toNode = nodes.find((node) => node.id === to);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="transition-title" onClose={onClose}>
      <h2 id="transition-title">
        New transition from {describe(from)}
        {toNode ? ` to ${describe(toNode)}` : ""}
      </h2>
      <form className="stack" onSubmit={(event) => { event.preventDefault(); submit(); }}>
        {!to && (
          <label>
            To the state
            <select value={target} onChange={(event) => setTarget(event.target.value)}>
              {nodes.map((node) => <option key={node.id} value={node.id}>{describe(node)}{node.id === from.id ? " (itself)" : ""}</option>)}
            </select>
          </label>
        )}
        <label>
          Taken
          <select value={kind} onChange={(event) => setKind(event.target.value as TriggerKind)}>
            <option value="event">on an event</option>
            <option value="after">after a delay in the state</option>
            <option value="always">always (as soon as its guard holds)</option>
          </select>
        </label>
        {kind !== "always" && (
          <label>
            {kind === "event" ? "Event name" : "Delay (90s, 15m, 48h, 30d)"}
            <input value={value} autoFocus autoComplete="off" onChange={(event) => setValue(event.target.value)} />
          </label>
        )}
        <p role="alert" className="hint" data-testid="transition-message">{message}</p>
        <div className="row">
          <button type="submit" className="button primary">Add the transition</button>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </dialog>
  );
}
