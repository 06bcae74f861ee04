// The bridge to the server-rendered side panel: Django renders and validates the node's form;
// its answer carries an HX-Trigger event with the new config, label and problems.
import { postForm } from "./api";
import type { Problem } from "./types";

export const PANEL_EVENT = "stepwise:node-updated";

export interface PanelUpdate {
  node: string;
  config: Record<string, unknown>;
  label: string;
  problems: Problem[];
}

const placeholder = '<p class="hint">Select a node to edit its settings.</p>';
let openedFor = "";

export async function openPanel(
  url: string,
  node: { id: string; type: string; label: string; config: Record<string, unknown> },
): Promise<void> {
  const panel = document.getElementById("panel");
  if (!panel) return;
  const key = JSON.stringify(node);
  if (key === openedFor) return;
  openedFor = key;
  const response = await postForm(url, {
    open: "1",
    node_id: node.id,
    node_type: node.type,
    label: node.label,
    config: JSON.stringify(node.config),
  });
  if (openedFor !== key) return; // another node was selected meanwhile
  panel.innerHTML = await response.text();
  window.htmx?.process(panel);
}

export function closePanel(): void {
  const panel = document.getElementById("panel");
  openedFor = "";
  if (panel) panel.innerHTML = placeholder;
}

// The panel changed the node: what it shows now is current, no need to reload it.
export function panelShows(node: { id: string; type: string; label: string; config: Record<string, unknown> }): void {
  openedFor = JSON.stringify(node);
}

export function onPanelUpdate(root: HTMLElement, handler: (update: PanelUpdate) => void): () => void {
  const listener = (event: Event) => handler((event as CustomEvent<PanelUpdate>).detail);
  root.addEventListener(PANEL_EVENT, listener);
  return () => root.removeEventListener(PANEL_EVENT, listener);
}
