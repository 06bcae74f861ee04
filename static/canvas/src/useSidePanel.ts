// Keeps Django's side panel on the one selected node, and takes the settings it saves back.
import { useEffect } from "react";
import type { StepNode } from "./graph";
import { closePanel, onPanelUpdate, openPanel, panelShows } from "./sidePanel";
import type { Draft } from "./useDraft";

export function useSidePanel(
  panelUrl: string,
  single: StepNode | null,
  draft: Pick<Draft, "nodesRef" | "edgesRef" | "setNodes" | "commit">,
): void {
  const { nodesRef, edgesRef, setNodes, commit } = draft;

  useEffect(() => {
    if (!single) {
      closePanel();
      return;
    }
    void openPanel(panelUrl, {
      id: single.id,
      type: single.data.type,
      label: single.data.label,
      config: single.data.config,
    });
  }, [panelUrl, single?.id, single?.data.config, single?.data.label, single?.data.type]);

  useEffect(() => {
    const root = document.getElementById("canvas");
    if (!root) return undefined;
    return onPanelUpdate(root, (update) => {
      const node = nodesRef.current.find((item) => item.id === update.node);
      if (!node) return;
      const data = { ...node.data, config: update.config, label: update.label, problems: update.problems };
      panelShows({ id: node.id, type: data.type, label: data.label, config: data.config });
      const unchanged =
        node.data.label === update.label && JSON.stringify(node.data.config) === JSON.stringify(update.config);
      if (unchanged) {
        // Applying the same settings again is not an edit: nothing to undo, nothing to save.
        setNodes((current) => current.map((item) => (item.id === node.id ? { ...item, data } : item)));
        return;
      }
      commit({
        nodes: nodesRef.current.map((item) => (item.id === node.id ? { ...item, data } : item)),
        edges: edgesRef.current,
      });
    });
  }, [commit, edgesRef, nodesRef, setNodes]);
}
