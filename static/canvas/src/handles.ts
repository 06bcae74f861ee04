// Which outputs a node has: its type's handles, a switch's cases from its config, and `error`.
import type { NodeTypeInfo } from "./types";

export const NORMAL_HANDLE = "out";
export const ERROR_HANDLE = "error";

export function outputsOf(info: NodeTypeInfo | undefined, config: Record<string, unknown>): string[] {
  if (!info) return [ERROR_HANDLE];
  let outputs: string[];
  if (info.outputs !== null) {
    outputs = info.outputs;
  } else {
    const cases = Array.isArray(config.cases) ? config.cases : [];
    outputs = cases
      .map((item) => (item && typeof item === "object" ? (item as Record<string, unknown>).name : null))
      .filter((name): name is string => typeof name === "string" && name !== "");
    outputs = [...outputs, "default"];
  }
  return [...outputs.map((name) => (name === "" ? NORMAL_HANDLE : name)), ERROR_HANDLE];
}

// The React Flow handle id for a graph edge's handle, and back.
export function toHandleId(handle: string | null | undefined): string {
  return handle ? handle : NORMAL_HANDLE;
}

export function fromHandleId(id: string | null | undefined): string | null {
  return !id || id === NORMAL_HANDLE ? null : id;
}

export function handleLabel(id: string): string {
  return id === NORMAL_HANDLE ? "" : id;
}
