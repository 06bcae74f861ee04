// Entry point: mounts the canvas island with the page data Django put in #canvas-boot.
import "@xyflow/react/dist/style.css";
import { ReactFlowProvider } from "@xyflow/react";
import { createRoot } from "react-dom/client";
import { setCsrfToken } from "./api";
import App from "./App";
import type { Boot } from "./types";

function mount(): void {
  const root = document.getElementById("canvas");
  const data = document.getElementById("canvas-boot");
  if (!root || !data) return;
  const boot = JSON.parse(data.textContent ?? "{}") as Boot;
  setCsrfToken(boot.csrf);
  const workerUrl = root.closest<HTMLElement>("[data-layout-worker]")?.dataset.layoutWorker ?? "";
  createRoot(root).render(
    <ReactFlowProvider>
      <App boot={boot} workerUrl={workerUrl} />
    </ReactFlowProvider>,
  );
  document.documentElement.dataset.canvasReady = "1";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
