// The canvas's keyboard shortcuts (the keys are in shortcuts.ts), bound to the draft and its edits.
import { useReactFlow, type Edge, type Node } from "@xyflow/react";
import { useEffect, useRef } from "react";
import { FIT_ALL } from "./flowSettings";
import { handleShortcut, type ShortcutActions } from "./shortcuts";
import type { Draft } from "./useDraft";
import type { Editing } from "./useEditing";

// The edits the keys reach; copy and paste only where the canvas has them.
export type ShortcutEdits = Pick<Editing, "deleteSelection" | "autoLayout"> &
  Partial<Pick<Editing, "copy" | "pasteCopied" | "duplicate">>;

interface Surroundings {
  editable: boolean;
  say(text: string): void;
  toggleSnap(): void;
  openDialog(dialog: "help" | "connect"): void;
}

export function useShortcuts<N extends Node, D>(
  draft: Draft<N, D>,
  editing: ShortcutEdits,
  surroundings: Surroundings,
): void {
  const flow = useReactFlow<N, Edge>();
  const { nodesRef, setNodes, setEdges } = draft;
  const { editable, say, toggleSnap, openDialog } = surroundings;

  const actions: ShortcutActions = {
    undo: draft.undo,
    redo: draft.redo,
    remove: editing.deleteSelection,
    copy: () => editing.copy?.(),
    paste: () => editing.pasteCopied?.(),
    duplicate: () => editing.duplicate?.(),
    selectAll: () => setNodes((current) => current.map((node) => ({ ...node, selected: true }))),
    layout: () => void editing.autoLayout(),
    fit: () => void flow.fitView(FIT_ALL),
    zoomIn: () => void flow.zoomIn(),
    zoomOut: () => void flow.zoomOut(),
    toggleSnap,
    save: () => void draft.autosave.saver.flush(),
    help: () => openDialog("help"),
    pan: (dx, dy) => {
      if (nodesRef.current.some((node) => node.selected)) return false;
      const { x, y, zoom } = flow.getViewport();
      void flow.setViewport({ x: x - dx, y: y - dy, zoom });
      return true;
    },
    connect: () => {
      if (!editable) return;
      if (nodesRef.current.filter((node) => node.selected).length === 1) openDialog("connect");
      else say("Select one step to connect it (Tab to a step, then Enter).");
    },
    search: () => document.getElementById("palette-search")?.focus(),
    escape: () => {
      setNodes((current) => current.map((node) => (node.selected ? { ...node, selected: false } : node)));
      setEdges((current) => current.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)));
    },
  };
  // One listener for the page's life that always acts with this render's callbacks.
  const latest = useRef(actions);
  latest.current = actions;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => handleShortcut(event, latest.current);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
