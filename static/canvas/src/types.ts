// Shapes shared by the canvas modules: the graph document, node types, problems, page data.
import type { MachineDoc } from "./machine";

export interface GraphNode {
  id: string;
  type: string;
  label?: string;
  config?: Record<string, unknown>;
  position?: { x: number; y: number };
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  handle?: string | null;
}

export interface GraphDoc {
  nodes: GraphNode[];
  edges: GraphEdge[];
  meta?: Record<string, unknown>;
}

export interface Problem {
  node: string | null;
  field: string | null;
  message: string;
}

export interface NodeTypeInfo {
  type: string;
  group: string;
  title: string;
  description: string;
  icon: string;
  config_schema: Record<string, unknown>;
  outputs: string[] | null;
  error_handling: boolean;
  is_trigger: boolean;
}

export interface Boot {
  slug: string;
  title: string;
  graph: GraphDoc;
  revision: number;
  problems: Problem[];
  nodeTypes: NodeTypeInfo[];
  publishedVersion: number | null;
  inputSchema: Record<string, unknown> | null;
  csrf: string;
  can: { edit: boolean; publish: boolean; run: boolean };
  urls: { api: string; panel: string; runs: string; export: string };
}

export type RunState = "running" | "done" | "failed" | "waiting" | "cancelled";
export type DiffState = "added" | "removed" | "changed";

// What a canvas node carries; config and label come from Django, the rest is view state.
export interface StepData extends Record<string, unknown> {
  type: string;
  label: string;
  config: Record<string, unknown>;
  problems: Problem[];
  runState?: RunState;
  diffState?: DiffState;
}

// The dialogs the canvas opens over itself, one at a time.
export type CanvasDialog = "help" | "versions" | "run" | "connect" | "test-run";

// A state machine's canvas page (designer/machine_views.py).
export interface MachineBoot {
  kind: "machine";
  slug: string;
  title: string;
  definition: MachineDoc;
  revision: number;
  problems: Problem[];
  // The node types a state or transition may run as an action.
  actionTypes: NodeTypeInfo[];
  publishedVersion: number | null;
  csrf: string;
  can: { edit: boolean; publish: boolean };
  urls: { page: string; export: string };
}
