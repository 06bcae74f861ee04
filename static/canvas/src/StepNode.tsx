// A node on the canvas: icon, title, label, one labelled source handle per output, problems.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import type { StepNode as StepNodeType } from "./graph";
import { handleLabel, outputsOf } from "./handles";
import Icon from "./Icon";
import { TypesContext } from "./context";

function StepNodeView({ id, data, selected }: NodeProps<StepNodeType>) {
  const types = useContext(TypesContext);
  const info = types.get(data.type);
  const outputs = outputsOf(info, data.config);
  const problems = data.problems;
  const classes = ["step-node", `group-${info?.group ?? "unknown"}`];
  if (selected) classes.push("selected");
  if (problems.length) classes.push("has-problems");
  if (data.runState) classes.push(`run-${data.runState}`);
  if (data.diffState) classes.push(`diff-${data.diffState}`);
  const title = info?.title ?? data.type;
  return (
    <div
      className={classes.join(" ")}
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
            <Handle
              type="source"
              position={Position.Right}
              id={output}
              className={`handle-out handle-${output}`}
              data-testid={`handle-${id}-${output}`}
              title={output === "out" ? "output" : output}
            />
          </div>
        ))}
      </div>
    </div>
  );
}

export default memo(StepNodeView);
