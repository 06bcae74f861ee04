// Connecting without a mouse: choose one of the selected node's outputs and a node to lead to.
// The same rules as dragging an edge apply; a refusal is read out in the dialog.
import { useEffect, useMemo, useRef, useState } from "react";
import type { StepNode } from "./graph";
import { handleLabel, outputsOf } from "./handles";
import type { NodeTypeInfo } from "./types";

interface Props {
  from: StepNode;
  nodes: StepNode[];
  types: Map<string, NodeTypeInfo>;
  // Draws the edge, or answers why it may not be drawn.
  onConnect(sourceHandle: string, target: string): string | null;
  onClose(): void;
}

function describe(node: StepNode, types: Map<string, NodeTypeInfo>): string {
  const title = types.get(node.data.type)?.title ?? node.data.type;
  return node.data.label ? `${node.data.label} (${title}, ${node.id})` : `${title} (${node.id})`;
}

export default function ConnectDialog({ from, nodes, types, onConnect, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const outputs = useMemo(() => outputsOf(types.get(from.data.type), from.data.config), [from, types]);
  const targets = useMemo(
    () => nodes.filter((node) => node.id !== from.id && !types.get(node.data.type)?.is_trigger),
    [from, nodes, types],
  );
  const [output, setOutput] = useState(outputs[0] ?? "out");
  const [target, setTarget] = useState(targets[0]?.id ?? "");
  const [message, setMessage] = useState("");
  useEffect(() => ref.current?.showModal(), []);
  const submit = () => {
    const reason = onConnect(output, target);
    if (reason) setMessage(`Not connected: ${reason}.`);
    // Closed by unmounting, at once: the native "close" event would arrive a moment later and
    // could shut a dialog opened again meanwhile (C pressed right after connecting).
    else onClose();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="connect-title" onClose={onClose}>
      <h2 id="connect-title">Connect {describe(from, types)}</h2>
      {targets.length === 0 ? (
        <p className="hint">There is no other step to lead to yet: add one from the palette first.</p>
      ) : (
        <form className="stack" onSubmit={(event) => { event.preventDefault(); submit(); }}>
          <label>
            From the output
            <select value={output} onChange={(event) => setOutput(event.target.value)}>
              {outputs.map((name) => (
                <option key={name} value={name}>{handleLabel(name) || "next (the normal output)"}</option>
              ))}
            </select>
          </label>
          <label>
            To the step
            <select value={target} onChange={(event) => setTarget(event.target.value)}>
              {targets.map((node) => (
                <option key={node.id} value={node.id}>{describe(node, types)}</option>
              ))}
            </select>
          </label>
          <p role="alert" className="hint" data-testid="connect-message">{message}</p>
          <div className="row">
            <button type="submit" className="button primary">Connect</button>
            <button type="button" className="button" onClick={onClose}>Cancel</button>
          </div>
        </form>
      )}
      {targets.length === 0 && (
        <form method="dialog"><button className="button" type="submit">Close</button></form>
      )}
    </dialog>
  );
}
