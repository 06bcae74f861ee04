// The machine's instances on its canvas: how many are in each state right now, and, when the page
// was opened for one instance (?instance=<id>), which state that one is in. Both follow the
// machine's and the instance's WebSockets and read the counts and the instance over HTTP.
import { useEffect, useState, type Dispatch, type SetStateAction } from "react";
import { api } from "./api";
import type { StateNode } from "./machine";

export interface WatchedInstance {
  id: number;
  key: string;
  state: string;
  status: string;
}

interface Counts {
  counts: Record<string, number>;
  total: number;
}

interface InstanceOut {
  id: number;
  key: string;
  machine: string;
  state: string;
  status: string;
}

function follow(path: string, changed: () => void): () => void {
  const following = window.stepwiseLive?.follow(path, changed);
  return () => following?.stop();
}

// One read at a time; a message during a read asks for one more after it.
function reader(read: () => Promise<void>): () => void {
  let reading = false;
  let again = false;
  const look = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      await read();
    } catch {
      // A failed read is tried again on the next message.
    }
    reading = false;
    if (again) {
      again = false;
      void look();
    }
  };
  return () => void look();
}

// `published`: a machine never published has no instances (and the engine does not know it).
export function useMachineOverlay(
  slug: string,
  setNodes: Dispatch<SetStateAction<StateNode[]>>,
  instanceId: number | null,
  published: boolean,
): { instance: WatchedInstance | null; total: number } {
  const [instance, setInstance] = useState<WatchedInstance | null>(null);
  const [total, setTotal] = useState(0);

  useEffect(() => {
    if (!published) return undefined;
    const look = reader(async () => {
      const found = await api<Counts>("GET", `/api/machines/${slug}/states`);
      setTotal(found.total);
      setNodes((current) =>
        current.map((node) => {
          const here = found.counts[node.id] ?? 0;
          return (node.data.here ?? 0) === here ? node : { ...node, data: { ...node.data, here } };
        }),
      );
    });
    const stop = follow(`/ws/machines/${slug}/`, look);
    look();
    return stop;
  }, [slug, setNodes, published]);

  useEffect(() => {
    if (instanceId === null) return undefined;
    const look = reader(async () => {
      const found = await api<InstanceOut>("GET", `/api/instances/${instanceId}`);
      if (found.machine !== slug) return;
      setInstance({ id: found.id, key: found.key, state: found.state, status: found.status });
      setNodes((current) =>
        current.map((node) => {
          const active = node.id === found.state;
          return (node.data.active ?? false) === active ? node : { ...node, data: { ...node.data, active } };
        }),
      );
    });
    const stop = follow(`/ws/instances/${instanceId}/`, look);
    look();
    return stop;
  }, [slug, instanceId, setNodes]);

  return { instance, total };
}
