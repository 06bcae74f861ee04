// A state on the canvas: its label and id, marked when it is entered first, double-bordered when
// final, a group around its children when compound; problems as a badge.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { StateNode } from "./machine";
import { diffText } from "./machineDiff";

function actionsText(data: StateNode["data"]): string {
  const parts = [];
  if (data.entry.length) parts.push(`entry: ${data.entry.map((action) => action.type.split(".").pop()).join(", ")}`);
  if (data.exit.length) parts.push(`exit: ${data.exit.map((action) => action.type.split(".").pop()).join(", ")}`);
  return parts.join(" · ");
}

function StateNodeView({ id, data, selected, type }: NodeProps<StateNode>) {
  const { problems } = data;
  const classes = ["machine-state", type === "compound" ? "compound" : "simple"];
  if (data.final) classes.push("final");
  if (selected) classes.push("selected");
  if (problems.length) classes.push("has-problems");
  if (data.active) classes.push("active");
  if (data.diffState) classes.push(`diff-${data.diffState}`);
  const facts = [
    data.entered ? "entered first" : "",
    data.final ? "final" : "",
    type === "compound" ? "compound" : "",
    diffText(data.diffState, data.diffKeys),
  ].filter(Boolean);
  const actions = actionsText(data);
  return (
    <div
      className={classes.join(" ")}
      data-testid={`node-${id}`}
      data-initial={data.entered ? "1" : ""}
      data-final={data.final ? "1" : ""}
      data-active={data.active ? "1" : ""}
      data-diff={data.diffState ?? ""}
      title={data.diffState ? diffText(data.diffState, data.diffKeys) : undefined}
      aria-label={`State ${data.label || id} (id ${id}${facts.length ? `, ${facts.join(", ")}` : ""})${problems.length ? `, ${problems.length} problem(s)` : ""}`}
    >
      <Handle type="target" position={Position.Left} id="in" className="handle-in" />
      {data.entered && <span className="initial-mark" data-testid={`initial-${id}`} title="Entered first" />}
      <div className="state-head">
        <span className="state-title">{data.label || id}</span>
        {(data.here ?? 0) > 0 && (
          <span className="instances-badge" data-testid={`here-${id}`} title={`${data.here} instance(s) in this state now`}>
            {data.here}
          </span>
        )}
        {problems.length > 0 && (
          <span className="problem-badge" data-testid={`badge-${id}`} title={problems.map((p) => p.message).join("\n")}>
            {problems.length}
          </span>
        )}
      </div>
      <div className="state-sub">
        <code>{id}</code>
        {data.final ? " · final" : ""}
      </div>
      {actions && <div className="state-actions">{actions}</div>}
      {problems.length > 0 && selected && (
        <ul className="step-problems">
          {problems.slice(0, 3).map((problem, index) => (
            <li key={index}>{problem.field ? `${problem.field}: ` : ""}{problem.message}</li>
          ))}
        </ul>
      )}
      {/* A final state keeps its handle, unconnectable: a stored transition out of it still draws. */}
      <Handle
        type="source"
        position={Position.Right}
        id="out"
        className={data.final ? "handle-out handle-off" : "handle-out"}
        isConnectable={!data.final}
        data-testid={`handle-${id}`}
        title="Drag to another state to add a transition"
      />
    </div>
  );
}

export default memo(StateNodeView);
