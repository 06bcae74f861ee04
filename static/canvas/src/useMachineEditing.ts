// Edits of a machine's draft, each one undoable step: adding states and transitions, changing
// them from the side panel, copying, pasting, deleting and laying out (shared with the workflow canvas).
import { useReactFlow, type Edge } from "@xyflow/react";
import { useCallback, useMemo, type RefObject } from "react";
import { newId, STATE_SIZE, transitionEdge, transitionId, type StateData, type StateNode, type TransitionData, type TriggerKind } from "./machine";
import { copiedStates, pasteStates, readClipboard, writeClipboard, type CopiedStates } from "./machineClipboard";
import { moveInto, renameState as renamed, startIn as startingIn, tidy } from "./machineEdits";
import type { Snapshot } from "./history";
import { useAutoLayout, useDeleteSelection } from "./useCommonEdits";
import type { Draft } from "./useDraft";
import type { Notice } from "./useNotice";

export type StateKind = "state" | "final" | "compound";

export interface MachineEditing {
  addState(kind: StateKind): void;
  // Adds a transition, or answers why it may not be added.
  connect(source: string, target: string, kind: TriggerKind, value: string): string | null;
  updateState(id: string, patch: Partial<StateData>): void;
  // Renames a state everywhere, or answers why the name cannot be taken.
  renameState(from: string, to: string): string | null;
  moveState(id: string, parent: string | null): void;
  startIn(id: string): void;
  updateTransition(id: string, patch: Partial<TransitionData>, target?: string): void;
  selectEdge(id: string): void;
  deleteSelection(): void;
  autoLayout(): Promise<void>;
  // The selected states, those inside them and the transitions between them; the clipboard is
  // other machines' canvases' too.
  copy(): void;
  pasteCopied(): void;
  duplicate(): void;
}

interface Surroundings {
  editable: boolean;
  notice: Notice;
  wrapper: RefObject<HTMLDivElement | null>;
  workerUrl: string;
}

// The place nearest `around` where a new state covers no other (on a grid of state-sized cells).
function freeSpot(nodes: StateNode[], around: { x: number; y: number }): { x: number; y: number } {
  const boxes = nodes.filter((node) => !node.parentId).map((node) => ({ ...node.position, width: node.width ?? node.measured?.width ?? STATE_SIZE.width, height: node.height ?? node.measured?.height ?? STATE_SIZE.height }));
  const free = (x: number, y: number) =>
    boxes.every((box) => x + STATE_SIZE.width + 20 <= box.x || box.x + box.width + 20 <= x || y + STATE_SIZE.height + 20 <= box.y || box.y + box.height + 20 <= y);
  for (let ring = 0; ring < 6; ring += 1) {
    for (let dy = -ring; dy <= ring; dy += 1) {
      for (let dx = -ring; dx <= ring; dx += 1) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        const x = around.x + dx * (STATE_SIZE.width + 60);
        const y = around.y + dy * (STATE_SIZE.height + 60);
        if (free(x, y)) return { x, y };
      }
    }
  }
  return around;
}

const EMPTY: Pick<StateData, "initial" | "entry" | "exit" | "problems" | "extra"> = { initial: "", entry: [], exit: [], problems: [], extra: {} };

export function useMachineEditing(draft: Draft<StateNode, unknown>, { editable, notice, wrapper, workerUrl }: Surroundings): MachineEditing {
  const flow = useReactFlow<StateNode, Edge>();
  const { nodesRef, edgesRef, setNodes, setEdges } = draft;
  const { say } = notice;
  // Every edit leaves compound states sized and ordered, whoever made it.
  const commit = useCallback(
    (next: Snapshot<StateNode>) => {
      if (editable) draft.commit({ nodes: tidy(next.nodes), edges: next.edges });
    },
    [draft.commit, editable],
  );
  const tidied = useMemo(() => ({ nodesRef, edgesRef, commit }), [commit, edgesRef, nodesRef]);
  const deleteSelection = useDeleteSelection(tidied, editable);
  const autoLayout = useAutoLayout(tidied, { editable, notice, workerUrl });

  const addState = useCallback(
    (kind: StateKind) => {
      const box = wrapper.current?.getBoundingClientRect();
      const centre = flow.screenToFlowPosition({
        x: (box?.left ?? 0) + (box?.width ?? 800) / 2,
        y: (box?.top ?? 0) + (box?.height ?? 600) / 2,
      });
      const taken = new Set([...nodesRef.current.map((node) => node.id), ...edgesRef.current.map((edge) => edge.id)]);
      const id = newId(kind === "final" ? "done" : kind === "compound" ? "group" : "state", taken);
      const first = !nodesRef.current.some((node) => !node.parentId);
      const state: StateNode = {
        id,
        type: "state",
        selected: true,
        position: freeSpot(nodesRef.current, { x: centre.x - 90, y: centre.y - 32 }),
        data: { ...EMPTY, label: "", final: kind === "final", start: first },
      };
      const added = [state];
      if (kind === "compound") {
        const child = newId(`${id}_first`, taken.add(id));
        state.data = { ...state.data, initial: child };
        added.push({ id: child, type: "state", parentId: id, position: { x: 20, y: 50 }, data: { ...EMPTY, label: "", final: false, start: false } });
      }
      const others = nodesRef.current.map((node) => (node.selected ? { ...node, selected: false } : node));
      commit({ nodes: [...others, ...added], edges: edgesRef.current });
      say(`Added the ${kind === "final" ? "final state" : kind === "compound" ? "compound state" : "state"} '${id}'${first ? ", where the machine starts" : ""}.`);
    },
    [commit, edgesRef, flow, nodesRef, say, wrapper],
  );

  const connect = useCallback(
    (source: string, target: string, kind: TriggerKind, value: string): string | null => {
      const from = nodesRef.current.find((node) => node.id === source);
      if (!from || !nodesRef.current.some((node) => node.id === target)) return "choose two states";
      if (from.data.final) return `'${source}' is final: nothing leaves a final state`;
      if (kind !== "always" && !value.trim()) return kind === "event" ? "name the event that takes it" : "give the delay (30m, 48h, 30d)";
      const data = { kind, value: kind === "always" ? "" : value.trim(), guard: "", actions: [], extra: {} };
      const taken = new Set([...nodesRef.current.map((node) => node.id), ...edgesRef.current.map((edge) => edge.id)]);
      const id = transitionId(source, data, taken);
      commit({ nodes: nodesRef.current, edges: [...edgesRef.current.map((edge) => ({ ...edge, selected: false })), transitionEdge(id, source, target, data)] });
      say(`Added the transition '${id}' from '${source}' to '${target}'.`);
      return null;
    },
    [commit, edgesRef, nodesRef, say],
  );

  const updateState = useCallback(
    (id: string, patch: Partial<StateData>) =>
      commit({
        nodes: nodesRef.current.map((node) => (node.id === id ? { ...node, data: { ...node.data, ...patch } } : node)),
        edges: edgesRef.current,
      }),
    [commit, edgesRef, nodesRef],
  );

  const renameState = useCallback(
    (from: string, to: string): string | null => {
      if (from === to) return null;
      const next = renamed({ nodes: nodesRef.current, edges: edgesRef.current }, from, to);
      if (typeof next === "string") return next;
      commit(next);
      say(`Renamed '${from}' to '${to}'.`);
      return null;
    },
    [commit, edgesRef, nodesRef, say],
  );

  const moveState = useCallback(
    (id: string, parent: string | null) => commit({ nodes: moveInto(nodesRef.current, id, parent), edges: edgesRef.current }),
    [commit, edgesRef, nodesRef],
  );
  const startIn = useCallback(
    (id: string) => commit({ nodes: startingIn(nodesRef.current, id), edges: edgesRef.current }),
    [commit, edgesRef, nodesRef],
  );

  const updateTransition = useCallback(
    (id: string, patch: Partial<TransitionData>, target?: string) =>
      commit({
        nodes: nodesRef.current,
        edges: edgesRef.current.map((edge) =>
          edge.id === id ? { ...edge, target: target ?? edge.target, data: { ...(edge.data as TransitionData), ...patch } } : edge,
        ),
      }),
    [commit, edgesRef, nodesRef],
  );

  const selectEdge = useCallback(
    (id: string) => {
      setNodes((current) => current.map((node) => (node.selected ? { ...node, selected: false } : node)));
      setEdges((current) => current.map((edge) => (edge.selected === (edge.id === id) ? edge : { ...edge, selected: edge.id === id })));
    },
    [setEdges, setNodes],
  );

  const paste = useCallback(
    (copied: CopiedStates) => {
      if (!editable) return;
      const current = { nodes: nodesRef.current, edges: edgesRef.current };
      const next = pasteStates(current, copied);
      const added = next.nodes.slice(current.nodes.length).map((node) => `'${node.id}'`);
      const transitions = next.edges.length - current.edges.length;
      commit(next);
      say(`Pasted ${added.length} state(s) as ${added.slice(0, 5).join(", ")}${added.length > 5 ? ", …" : ""} and ${transitions} transition(s).`);
    },
    [commit, edgesRef, editable, nodesRef, say],
  );

  const chosen = useCallback(() => new Set(nodesRef.current.filter((node) => node.selected).map((node) => node.id)), [nodesRef]);

  const copy = useCallback(() => {
    const ids = chosen();
    if (!ids.size) return say("Nothing copied: select one or more states first.");
    const copied = copiedStates(nodesRef.current, edgesRef.current, ids);
    writeClipboard(copied);
    say(`Copied ${copied.states.length} state(s) and ${copied.transitions.length} transition(s).`);
  }, [chosen, edgesRef, nodesRef, say]);

  const pasteCopied = useCallback(() => {
    if (!editable) return;
    const copied = readClipboard();
    if (typeof copied === "string") return say(copied);
    paste(copied);
  }, [editable, paste, say]);

  const duplicate = useCallback(() => {
    if (!editable) return;
    const ids = chosen();
    if (!ids.size) return say("Nothing duplicated: select one or more states first.");
    paste(copiedStates(nodesRef.current, edgesRef.current, ids));
  }, [chosen, edgesRef, editable, nodesRef, paste, say]);

  return { addState, connect, updateState, renameState, moveState, startIn, updateTransition, selectEdge, deleteSelection, autoLayout, copy, pasteCopied, duplicate };
}
