// Auto-layout: asks the elkjs Web Worker for positions, one request at a time per id.
import type { Edge, Node } from "@xyflow/react";

type Positions = Record<string, { x: number; y: number }>;

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve(p: Positions): void; reject(e: Error): void }>();

function getWorker(url: string): Worker {
  if (!worker) {
    worker = new Worker(url);
    worker.onmessage = (event: MessageEvent<{ id: number; positions?: Positions; error?: string }>) => {
      const pending = waiting.get(event.data.id);
      if (!pending) return;
      waiting.delete(event.data.id);
      if (event.data.error || !event.data.positions) pending.reject(new Error(event.data.error ?? "layout failed"));
      else pending.resolve(event.data.positions);
    };
  }
  return worker;
}

export function layout(workerUrl: string, nodes: Node[], edges: Edge[]): Promise<Positions> {
  const id = nextId++;
  const request = {
    id,
    nodes: nodes.map((node) => ({
      id: node.id,
      width: node.measured?.width ?? 200,
      height: node.measured?.height ?? 70,
      ...(node.parentId ? { parent: node.parentId } : {}),
    })),
    edges: edges.map((edge) => ({ id: edge.id, source: edge.source, target: edge.target })),
  };
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    getWorker(workerUrl).postMessage(request);
  });
}
