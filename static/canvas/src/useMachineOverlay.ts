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

// One read at a time; a message during a read asks for one more after it. A read that fails (the
// server busy, a dropped connection) is tried again after a second, then less often: a change
// that comes with one message only would otherwise stay undrawn until the next one.
function reader(read: () => Promise<void>): { look: () => void; stop: () => void } {
  let reading = false;
  let again = false;
  let stopped = false;
  let retry = 0;
  let backoff = 1000;
  const look = async () => {
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    window.clearTimeout(retry);
    try {
      await read();
      backoff = 1000;
    } catch {
      if (!again && !stopped) {
        retry = window.setTimeout(() => void look(), backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
    }
    reading = false;
    if (again) {
      again = false;
      void look();
    }
  };
  return {
    look: () => void look(),
    stop: () => {
      stopped = true;
      window.clearTimeout(retry);
    },
  };
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
    const counts = reader(async () => {
      const found = await api<Counts>("GET", `/api/machines/${slug}/states`);
      setTotal(found.total);
      setNodes((current) =>
        current.map((node) => {
          const here = found.counts[node.id] ?? 0;
          return (node.data.here ?? 0) === here ? node : { ...node, data: { ...node.data, here } };
        }),
      );
    });
    const stopFollowing = follow(`/ws/machines/${slug}/`, counts.look);
    counts.look();
    return () => {
      counts.stop();
      stopFollowing();
    };
  }, [slug, setNodes, published]);

  useEffect(() => {
    if (instanceId === null) return undefined;
    const watched = reader(async () => {
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
    const stopFollowing = follow(`/ws/instances/${instanceId}/`, watched.look);
    watched.look();
    return () => {
      watched.stop();
      stopFollowing();
    };
  }, [slug, instanceId, setNodes]);

  return { instance, total };
}
