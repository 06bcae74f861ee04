// Undo and redo over snapshots of the whole canvas (nodes with their config, and edges).
import type { Edge, Node } from "@xyflow/react";
import type { StepNode } from "./graph";

export interface Snapshot<N extends Node = StepNode> {
  nodes: N[];
  edges: Edge[];
}

const LIMIT = 200;

export class History<N extends Node = StepNode> {
  private past: Snapshot<N>[] = [];
  private future: Snapshot<N>[] = [];

  // Record the state before an edit.
  record(before: Snapshot<N>): void {
    this.past.push(strip(before));
    if (this.past.length > LIMIT) this.past.shift();
    this.future = [];
  }

  undo(current: Snapshot<N>): Snapshot<N> | null {
    const previous = this.past.pop();
    if (!previous) return null;
    this.future.push(strip(current));
    return previous;
  }

  redo(current: Snapshot<N>): Snapshot<N> | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(strip(current));
    return next;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}

// Selection and run colours are view state, not edits.
function strip<N extends Node>(snapshot: Snapshot<N>): Snapshot<N> {
  return {
    nodes: snapshot.nodes.map((node) => ({ ...node, selected: false, dragging: false })),
    edges: snapshot.edges.map((edge) => ({ ...edge, selected: false })),
  };
}
