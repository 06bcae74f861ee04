// Drawing edges by dragging or from the Connect dialog, and saying why one may not be drawn.
import type { Connection, Edge, FinalConnectionState } from "@xyflow/react";
import { useCallback } from "react";
import { refusal } from "./connect";
import { newEdgeId, toFlowEdge } from "./graph";
import type { NodeTypeInfo } from "./types";
import type { Draft } from "./useDraft";

export interface Connecting {
  // Draws an edge, or answers why it may not be drawn.
  connectNodes(connection: Connection): string | null;
  onConnect(connection: Connection): void;
  isValidConnection(connection: Edge | Connection): boolean;
  onConnectEnd(event: MouseEvent | TouchEvent, state: FinalConnectionState): void;
}

export function useConnecting(
  draft: Pick<Draft, "nodesRef" | "edgesRef" | "commit">,
  types: Map<string, NodeTypeInfo>,
  say: (text: string) => void,
): Connecting {
  const { nodesRef, edgesRef, commit } = draft;

  const connectNodes = useCallback(
    (connection: Connection): string | null => {
      const reason = refusal(connection, nodesRef.current, edgesRef.current, types);
      if (reason) return reason;
      const id = newEdgeId(new Set(edgesRef.current.map((edge) => edge.id)));
      const handle = connection.sourceHandle === "out" ? null : connection.sourceHandle;
      const edge = toFlowEdge(id, connection.source, connection.target, handle);
      commit({ nodes: nodesRef.current, edges: [...edgesRef.current, edge] });
      say(`Connected '${connection.source}'${handle ? ` (${handle})` : ""} to '${connection.target}'.`);
      return null;
    },
    [commit, edgesRef, nodesRef, say, types],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const reason = connectNodes(connection);
      if (reason) say(`Not connected: ${reason}.`);
    },
    [connectNodes, say],
  );

  const isValidConnection = useCallback(
    (connection: Edge | Connection) =>
      refusal(
        { source: connection.source, sourceHandle: connection.sourceHandle ?? null, target: connection.target },
        nodesRef.current,
        edgesRef.current,
        types,
      ) === null,
    [edgesRef, nodesRef, types],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode) return;
      // Dropped on a node without an input (a trigger): React Flow finds no handle there.
      const point = event instanceof MouseEvent ? event : event.changedTouches[0];
      const under = document.elementFromPoint(point.clientX, point.clientY)?.closest<HTMLElement>(".react-flow__node");
      const toId = state.toNode?.id ?? under?.dataset.id;
      if (!toId) return;
      const fromSource = state.fromHandle?.type !== "target";
      const attempt = fromSource
        ? { source: state.fromNode.id, sourceHandle: state.fromHandle?.id ?? null, target: toId }
        : { source: toId, sourceHandle: state.toHandle?.id ?? null, target: state.fromNode.id };
      const reason = refusal(attempt, nodesRef.current, edgesRef.current, types);
      if (reason) say(`Not connected: ${reason}.`);
    },
    [edgesRef, nodesRef, say, types],
  );

  return { connectNodes, onConnect, isValidConnection, onConnectEnd };
}
