// An edge between steps. Zoomed out past reading (PlainStepsContext), it is one path: no wider
// invisible path to aim at and no label, each too small to use there, which halves the elements a
// large graph's edges add.
import { BaseEdge, getBezierPath, type EdgeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import { PlainStepsContext } from "./context";

function StepEdge({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, label, style, markerEnd, markerStart, interactionWidth }: EdgeProps) {
  const plain = useContext(PlainStepsContext);
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  if (plain) return <path d={path} fill="none" className="react-flow__edge-path" style={style} markerEnd={markerEnd} markerStart={markerStart} />;
  return (
    <BaseEdge
      path={path}
      labelX={labelX}
      labelY={labelY}
      label={label}
      style={style}
      markerEnd={markerEnd}
      markerStart={markerStart}
      interactionWidth={interactionWidth}
    />
  );
}

export default memo(StepEdge);
