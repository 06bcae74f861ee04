// The run overlay: while a run started from the canvas is shown, its status and each node's state.
import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from "react";
import type { StepNode } from "./graph";
import { fetchStepStates, followRun, isTerminal, nodeStates, type RunStatus } from "./runs";

export interface ShownRun {
  id: number;
  status: RunStatus;
}

export interface RunOverlay {
  run: ShownRun | null;
  show(run: ShownRun): void;
  hide(): void;
}

export function useRunOverlay(setNodes: Dispatch<SetStateAction<StepNode[]>>): RunOverlay {
  const [run, setRun] = useState<ShownRun | null>(null);

  useEffect(() => {
    if (!run) return undefined;
    let stopped = false;
    let ended = false;
    let timer = 0;
    let reading = false;
    let again = false;
    // Read the run again when its socket says it changed, else now and then; one read at a time.
    const look = async () => {
      if (stopped || ended) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      window.clearTimeout(timer);
      try {
        const detail = await fetchStepStates(run.id);
        const states = nodeStates(detail);
        setNodes((current) =>
          current.map((node) => {
            const state = states.get(node.id);
            return state === node.data.runState ? node : { ...node, data: { ...node.data, runState: state } };
          }),
        );
        setRun((current) => (current && current.status !== detail.status ? { ...current, status: detail.status } : current));
        ended = isTerminal(detail.status);
      } catch {
        // A failed read is tried again on the next message or tick.
      }
      reading = false;
      if (again) {
        again = false;
        void look();
      } else if (!ended && !stopped) {
        timer = window.setTimeout(() => void look(), 5000);
      }
    };
    const stopFollowing = followRun(run.id, () => void look());
    void look();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stopFollowing();
    };
  }, [run?.id]);

  const hide = useCallback(() => {
    setRun(null);
    setNodes((current) => current.map((node) => ({ ...node, data: { ...node.data, runState: undefined } })));
  }, [setNodes]);

  return { run, show: setRun, hide };
}
