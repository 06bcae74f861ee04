// A transition drawn between the borders of its states (wherever they are), curved so that
// transitions between the same two states, both ways, stay apart; a loop above a state that
// a transition leaves and enters again. Its label: the event (or delay), then `[guard]`.
import { BaseEdge, EdgeLabelRenderer, useInternalNode, useStore, type EdgeProps, type InternalNode } from "@xyflow/react";
import { createContext, memo, useContext } from "react";
import { STATE_SIZE, triggerText, type TransitionEdge } from "./machine";
import { diffText } from "./machineDiff";

// Selecting a transition by its label: the label is HTML above the edge's SVG, not part of it.
export const SelectEdgeContext = createContext<(id: string) => void>(() => undefined);

interface Point {
  x: number;
  y: number;
}
interface Box extends Point {
  width: number;
  height: number;
}

const SPACING = 36;

function boxOf(node: InternalNode): Box {
  const { x, y } = node.internals.positionAbsolute;
  return { x, y, width: node.measured.width ?? STATE_SIZE.width, height: node.measured.height ?? STATE_SIZE.height };
}

// Where the line from the box's centre towards `toward` leaves the box.
function border(box: Box, toward: Point): Point {
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  if (dx === 0 && dy === 0) return centre;
  const scale = Math.min(dx ? box.width / 2 / Math.abs(dx) : Infinity, dy ? box.height / 2 / Math.abs(dy) : Infinity);
  return { x: centre.x + dx * scale, y: centre.y + dy * scale };
}

function between(from: Box, to: Box, lane: number): { path: string; label: Point } {
  const a = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  const b = { x: to.x + to.width / 2, y: to.y + to.height / 2 };
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  // Bent to the left of the direction of travel: the way back bends the other way.
  const bend = SPACING * 0.6 + lane * SPACING;
  const control = { x: (a.x + b.x) / 2 + ((b.y - a.y) / length) * bend, y: (a.y + b.y) / 2 - ((b.x - a.x) / length) * bend };
  const start = border(from, control);
  const end = border(to, control);
  const label = { x: 0.25 * start.x + 0.5 * control.x + 0.25 * end.x, y: 0.25 * start.y + 0.5 * control.y + 0.25 * end.y };
  return { path: `M ${start.x} ${start.y} Q ${control.x} ${control.y} ${end.x} ${end.y}`, label };
}

function loop(box: Box, lane: number): { path: string; label: Point } {
  const rise = 46 + lane * SPACING;
  const out = { x: box.x + box.width * 0.62, y: box.y };
  const back = { x: box.x + box.width * 0.38, y: box.y };
  const c1 = { x: out.x + 24 + lane * 12, y: box.y - rise };
  const c2 = { x: back.x - 24 - lane * 12, y: box.y - rise };
  const label = { x: (out.x + 3 * c1.x + 3 * c2.x + back.x) / 8, y: (out.y + 3 * c1.y + 3 * c2.y + back.y) / 8 };
  return { path: `M ${out.x} ${out.y} C ${c1.x} ${c1.y} ${c2.x} ${c2.y} ${back.x} ${back.y}`, label };
}

function TransitionEdgeView({ id, source, target, data, selected, markerEnd }: EdgeProps<TransitionEdge>) {
  const from = useInternalNode(source);
  const to = useInternalNode(target);
  const select = useContext(SelectEdgeContext);
  // Its place among the transitions with the same source and target.
  const lane = useStore((state) =>
    state.edges.filter((edge) => edge.source === source && edge.target === target).findIndex((edge) => edge.id === id),
  );
  if (!from || !to || !data) return null;
  const { path, label } = source === target ? loop(boxOf(from), lane) : between(boxOf(from), boxOf(to), lane);
  const { problems } = data;
  const classes = ["transition-label", "nodrag", "nopan"];
  if (selected) classes.push("selected");
  if (problems.length) classes.push("has-problems");
  if (data.diffState) classes.push(`diff-${data.diffState}`);
  const change = diffText(data.diffState, data.diffKeys);
  const lineClass = data.diffState ? `edge-diff-${data.diffState}` : problems.length ? "edge-problem" : undefined;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={lineClass} />
      <EdgeLabelRenderer>
        <button
          type="button"
          className={classes.join(" ")}
          data-testid={`edge-${id}`}
          data-diff={data.diffState ?? ""}
          title={change || undefined}
          style={{ transform: `translate(-50%, -50%) translate(${label.x}px, ${label.y}px)` }}
          onClick={() => select(id)}
          aria-label={`Transition ${id}: ${triggerText(data)} from ${source} to ${target}${data.guard ? ` if ${data.guard}` : ""}${change ? ` (${change})` : ""}`}
        >
          <span className="transition-event">{triggerText(data)}</span>
          {data.guard && <span className="transition-guard" title={data.guard}> [{data.guard}]</span>}
          {data.actions.length > 0 && <span className="transition-actions"> / {data.actions.length}</span>}
          {problems.length > 0 && (
            <span className="problem-badge" data-testid={`badge-${id}`} title={problems.map((p) => p.message).join("\n")}>
              {problems.length}
            </span>
          )}
        </button>
      </EdgeLabelRenderer>
    </>
  );
}

export default memo(TransitionEdgeView);
