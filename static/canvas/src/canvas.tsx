// Entry point: mounts the canvas island with the page data Django put in #canvas-boot: a
// workflow's graph, or a state machine's (its boot data says `kind: "machine"`).
import "@xyflow/react/dist/style.css";
import { ReactFlowProvider } from "@xyflow/react";
import { createRoot } from "react-dom/client";
import { setCsrfToken } from "./api";
import App from "./App";
import MachineApp from "./MachineApp";
import "./designer.css";
import { installPanelControls } from "./panelControls";
import type { Boot, MachineBoot } from "./types";

function isMachine(boot: Boot | MachineBoot): boot is MachineBoot {
  return "kind" in boot && boot.kind === "machine";
}

function mount(): void {
  const root = document.getElementById("canvas");
  const data = document.getElementById("canvas-boot");
  if (!root || !data) return;
  const boot = JSON.parse(data.textContent ?? "{}") as Boot | MachineBoot;
  setCsrfToken(boot.csrf);
  const workerUrl = root.closest<HTMLElement>("[data-layout-worker]")?.dataset.layoutWorker ?? "";
  createRoot(root).render(
    <ReactFlowProvider>
      {isMachine(boot) ? <MachineApp boot={boot} workerUrl={workerUrl} /> : <App boot={boot} workerUrl={workerUrl} />}
    </ReactFlowProvider>,
  );
  if (!isMachine(boot)) installPanelControls();
  document.documentElement.dataset.canvasReady = "1";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
