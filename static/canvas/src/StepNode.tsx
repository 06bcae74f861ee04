// A node on the canvas: icon, title, label, one labelled source handle per output, problems.
// Zoomed out past reading, a step is drawn plain: a box coloured by its group with its name and
// its handles, a third of the elements; a 1,000-step graph fitted to the screen draws ~280 steps.
import { Handle, Position, type NodeProps, type ReactFlowState } from "@xyflow/react";
import { memo, useContext } from "react";
import type { StepNode as StepNodeType } from "./graph";
import { handleLabel, outputsOf } from "./handles";
import Icon from "./Icon";
import { PlainStepsContext, TypesContext } from "./context";
import { estimateGeometry, OUTPUT_ROW } from "./stepGeometry";
import type { NodeTypeInfo } from "./types";

// Below this zoom a step's 12 px title is under 5 px on screen.
const PLAIN_BELOW_ZOOM = 0.4;
export const zoomedOut = (state: ReactFlowState) => state.transform[2] < PLAIN_BELOW_ZOOM;

function stepClasses(info: NodeTypeInfo | undefined, data: StepNodeType["data"], selected: boolean): string[] {
  const classes = ["step-node", `group-${info?.group ?? "unknown"}`];
  if (selected) classes.push("selected");
  if (data.problems.length) classes.push("has-problems");
  if (data.runState) classes.push(`run-${data.runState}`);
  if (data.diffState) classes.push(`diff-${data.diffState}`);
  return classes;
}

function OutputHandle({ id, output }: { id: string; output: string }) {
  return (
    <Handle
      type="source"
      position={Position.Right}
      id={output}
      className={`handle-out handle-${output}`}
      data-testid={`handle-${id}-${output}`}
      title={output === "out" ? "output" : output}
    />
  );
}

function StepNodeView(props: NodeProps<StepNodeType>) {
  const plain = useContext(PlainStepsContext);
  return plain ? <PlainStep {...props} /> : <FullStep {...props} />;
}

function FullStep({ id, data, selected }: NodeProps<StepNodeType>) {
  const types = useContext(TypesContext);
  const info = types.get(data.type);
  const outputs = outputsOf(info, data.config);
  const problems = data.problems;
  const title = info?.title ?? data.type;
  return (
    <div
      className={stepClasses(info, data, selected).join(" ")}
      data-testid={`node-${id}`}
      data-run-state={data.runState ?? ""}
      data-diff={data.diffState ?? ""}
      aria-label={`${data.label || title} (${title}, id ${id})${problems.length ? `, ${problems.length} problem(s)` : ""}`}
    >
      {!info?.is_trigger && <Handle type="target" position={Position.Left} id="in" className="handle-in" />}
      <div className="step-head">
        <span className="step-icon"><Icon name={info?.icon ?? ""} /></span>
        <span className="step-title">{data.label || title}</span>
        {problems.length > 0 && (
          <span className="problem-badge" data-testid={`badge-${id}`} title={problems.map((p) => p.message).join("\n")}>
            {problems.length}
          </span>
        )}
        {data.runState && <span className={`run-dot run-dot-${data.runState}`} title={data.runState} />}
      </div>
      <div className="step-sub">
        <code>{id}</code> · {title}
      </div>
      {problems.length > 0 && selected && (
        <ul className="step-problems">
          {problems.slice(0, 3).map((problem, index) => (
            <li key={index}>{problem.field ? `${problem.field}: ` : ""}{problem.message}</li>
          ))}
        </ul>
      )}
      <div className="step-outputs">
        {outputs.map((output) => (
          <div key={output} className={`step-output output-${output}`}>
            <span className="output-label">{handleLabel(output)}</span>
            <OutputHandle id={id} output={output} />
          </div>
        ))}
      </div>
    </div>
  );
}

function estimatedSize(id: string, data: StepNodeType["data"], info: NodeTypeInfo | undefined) {
  const { initialWidth, initialHeight } = estimateGeometry(id, data, info);
  return { width: initialWidth, height: initialHeight };
}

// What React Flow measures of a handle to place an edge's end (its classes and data attributes),
// without a Handle's store subscriptions: too small to aim at this far out, it starts no
// connection (zoom in, or use Connect). `fromBottom` counts output rows up from the last one.
function PlainHandle({ nodeId, type, id, className, fromBottom = 0 }: { nodeId: string; type: "source" | "target"; id: string; className: string; fromBottom?: number }) {
  const position = type === "source" ? Position.Right : Position.Left;
  return (
    <div
      className={`react-flow__handle react-flow__handle-${position} ${type} ${className}`}
      style={type === "source" ? { bottom: `calc(var(--plain-last-output) + ${fromBottom * OUTPUT_ROW}px)` } : undefined}
      data-handleid={id}
      data-handlepos={position}
      data-nodeid={nodeId}
      data-testid={type === "source" ? `handle-${nodeId}-${id}` : undefined}
    />
  );
}

// The full step's size (as last measured, else estimated) with its handles where the full
// drawing's output rows put them (stepwise.css), so an edge meets a step at the same point in
// either drawing; the handles sit in the box itself, without the rows around them.
function PlainStep({ id, data, selected, width, height }: NodeProps<StepNodeType>) {
  const types = useContext(TypesContext);
  const info = types.get(data.type);
  const outputs = outputsOf(info, data.config);
  const title = info?.title ?? data.type;
  const size = width && height ? { width, height } : estimatedSize(id, data, info);
  const problems = data.problems.length;
  return (
    <div
      className={[...stepClasses(info, data, selected), "step-plain"].join(" ")}
      style={size}
      data-testid={`node-${id}`}
      data-run-state={data.runState ?? ""}
      data-diff={data.diffState ?? ""}
      data-drawing="plain"
      aria-label={`${data.label || title} (${title}, id ${id})${problems ? `, ${problems} problem(s)` : ""}`}
    >
      {!info?.is_trigger && <PlainHandle nodeId={id} type="target" id="in" className="handle-in" />}
      <div className="step-plain-title">{data.label || title}</div>
      {outputs.map((output, index) => (
        <PlainHandle
          key={output}
          nodeId={id}
          type="source"
          id={output}
          className={`handle-out handle-${output}`}
          fromBottom={outputs.length - 1 - index}
        />
      ))}
    </div>
  );
}

export default memo(StepNodeView);
