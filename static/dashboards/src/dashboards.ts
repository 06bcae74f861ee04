// The dashboards page: reads /dashboards/data (JSON from the rollups) and draws it with uPlot.
// Every chart has a table of the same numbers under it, for screen readers and for copying.
// Live: a message on /ws/dashboards/ means "runs changed"; the page fetches again, at most
// twice a second however many runs end, and by itself every 30 s.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

type Totals = Record<string, { value: number; previous: number; change: number | null }>;
type Percentiles = { p50: number | null; p95: number | null; p99: number | null };
type StepRow = Percentiles & {
  workflow: string;
  step: string;
  attempts: number;
  failed: number;
  retrying: number;
  slowest: number;
  example_run?: number | null;
};
type Data = {
  period: { name: string; start: string; end: string; slot: string };
  workflow: string | null;
  totals: Totals;
  series: Record<string, (number | null)[]> & { t: number[] };
  durations: (Percentiles & { workflow: string; ended: number; failed: number; mean: number | null })[];
  steps: { all: StepRow[]; slowest: StepRow[]; failing: StepRow[]; steps: number };
  queue: Percentiles & { waited: number; mean: number | null; backlog: number; scheduled: number };
  workers: { alive: number; busy: number };
  tasks: { open: number; overdue: number };
  schedules: { fired: number; missed: number };
  metrics: { workflow: string; name: string; t: number[]; mean: number[]; min: number[]; max: number[]; count: number[] }[];
  generated_at: string;
};

const MIN_INTERVAL_MS = 500;
const REFRESH_MS = 30_000;
const LABELS: Record<string, string> = {
  started: "Started",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  timed_out: "Timed out",
};
const COLOURS = ["#2563eb", "#15803d", "#b91c1c", "#a16207", "#7c3aed"];

const root = document.getElementById("dashboard") as HTMLElement;
const dataUrl = root.dataset.url as string;
const runUrl = root.dataset.runUrl as string; // ends in /0/
const form = document.getElementById("dashboard-filters") as HTMLFormElement;
const charts = new Map<string, uPlot>();
let lastFetch = 0;
let pending = 0;
let inFlight = false;
let fetches = 0;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | number | null,
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function seconds(value: number | null): string {
  if (value === null) return "–";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  if (value < 7200) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

function when(epoch: number, slot: string): string {
  const date = new Date(epoch * 1000);
  if (slot === "day") return date.toISOString().slice(0, 10);
  return date.toISOString().slice(0, 16).replace("T", " ");
}

function table(caption: string, head: string[], rows: (string | number | Node | null)[][]): HTMLTableElement {
  const node = el("table", undefined, { class: "data-table" });
  node.append(el("caption", caption));
  const headRow = el("tr");
  head.forEach((name) => headRow.append(el("th", name, { scope: "col" })));
  node.appendChild(el("thead")).append(headRow);
  const body = node.appendChild(el("tbody"));
  if (rows.length === 0) {
    const empty = el("td", "Nothing in this period.", { colspan: String(head.length) });
    body.appendChild(el("tr")).append(empty);
  }
  for (const row of rows) {
    const tr = body.appendChild(el("tr"));
    row.forEach((cell) => {
      const td = tr.appendChild(el("td"));
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell === null ? "–" : String(cell);
    });
  }
  return node;
}

function runLink(id: number | null | undefined): Node | string {
  if (!id) return "–";
  const link = el("a", `#${id}`, { href: runUrl.replace(/0\/$/, `${id}/`) });
  return link;
}

function chart(key: string, host: HTMLElement, title: string, names: string[], data: uPlot.AlignedData): void {
  const width = Math.max(280, host.clientWidth || 600);
  const options: uPlot.Options = {
    title,
    width,
    height: 220,
    series: [{}, ...names.map((label, index) => ({ label, stroke: COLOURS[index % COLOURS.length], width: 2, spanGaps: false }))],
    axes: [{}, { size: 50 }],
  };
  const existing = charts.get(key);
  if (existing && existing.series.length === names.length + 1 && existing.root.isConnected) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  host.replaceChildren();
  charts.set(key, new uPlot(options, data, host));
}

function chartSection(key: string, title: string, names: string[], fields: string[], t: number[], values: (number | null)[][], slot: string): void {
  const section = document.getElementById(`chart-${key}`) as HTMLElement;
  const plot = section.querySelector(".chart") as HTMLElement;
  // Series past the charted names are for the table only (a metric's count of values).
  chart(key, plot, title, names, [t, ...values.slice(0, names.length)] as uPlot.AlignedData);
  const rows = t.map((moment, index) => [when(moment, slot), ...values.map((series) => series[index] ?? null)]);
  const details = section.querySelector("details") as HTMLElement;
  details.querySelector("table")?.remove();
  details.append(table(`${title}, one row per ${slot}`, ["Time (UTC)", ...fields], rows));
}

function renderTotals(data: Data): void {
  const list = document.getElementById("totals") as HTMLElement;
  list.replaceChildren();
  for (const [name, total] of Object.entries(data.totals)) {
    const item = el("div", undefined, { class: "tile", "data-total": name });
    item.append(el("span", LABELS[name] ?? name, { class: "tile-label" }));
    item.append(el("strong", total.value, { class: "tile-value" }));
    const change = total.change === null ? "no earlier runs" : `${total.change > 0 ? "+" : ""}${total.change}% vs previous (${total.previous})`;
    item.append(el("span", change, { class: "tile-change" }));
    list.append(item);
  }
}

function renderNow(data: Data): void {
  const facts: [string, string][] = [
    ["Workers alive", String(data.workers.alive)],
    ["Workers busy", String(data.workers.busy)],
    ["Backlog (pending runs)", String(data.queue.backlog)],
    ["Scheduled runs", String(data.queue.scheduled)],
    ["Queue wait p50 / p95 / p99", `${seconds(data.queue.p50)} / ${seconds(data.queue.p95)} / ${seconds(data.queue.p99)}`],
    ["Open human tasks", `${data.tasks.open} (${data.tasks.overdue} overdue)`],
    ["Schedules fired / missed", `${data.schedules.fired} / ${data.schedules.missed}`],
  ];
  const list = document.getElementById("now") as HTMLElement;
  list.replaceChildren();
  for (const [term, value] of facts) {
    list.append(el("dt", term), el("dd", value));
  }
}

function renderTables(data: Data): void {
  const durations = document.getElementById("durations") as HTMLElement;
  durations.replaceChildren(
    table(
      "Run duration per workflow",
      ["Workflow", "Ended", "Failed", "Mean", "p50", "p95", "p99"],
      data.durations.map((r) => [r.workflow, r.ended, r.failed, seconds(r.mean), seconds(r.p50), seconds(r.p95), seconds(r.p99)]),
    ),
  );
  const stepHead = ["Workflow", "Step", "Attempts", "Failed", "Retried", "p50", "p95", "p99", "Example run"];
  const stepRow = (r: StepRow) => [r.workflow, r.step, r.attempts, r.failed, r.retrying, seconds(r.p50), seconds(r.p95), seconds(r.p99), runLink(r.example_run)];
  (document.getElementById("slowest-steps") as HTMLElement).replaceChildren(
    table("Slowest steps (by p95), with their slowest run", stepHead, data.steps.slowest.map(stepRow)),
  );
  (document.getElementById("failing-steps") as HTMLElement).replaceChildren(
    table("Most failing steps, with a run where they failed", stepHead, data.steps.failing.map(stepRow)),
  );
  const all = document.getElementById("all-steps") as HTMLElement;
  all.querySelector("table")?.remove();
  const shown = data.steps.steps > data.steps.all.length ? ` (the ${data.steps.all.length} busiest of ${data.steps.steps})` : "";
  all.append(table(`Step duration per workflow and step${shown}`, stepHead.slice(0, 8), data.steps.all.map((r) => stepRow(r).slice(0, 8))));
}

function renderMetrics(data: Data): void {
  const host = document.getElementById("metrics") as HTMLElement;
  const keys = new Set<string>();
  data.metrics.forEach((metric, index) => {
    const key = `metric-${index}`;
    keys.add(key);
    let section = document.getElementById(`chart-${key}`);
    if (!section) {
      section = el("section", undefined, { id: `chart-${key}`, class: "chart-card" });
      section.append(el("div", undefined, { class: "chart", "aria-hidden": "true" }));
      const details = el("details");
      details.append(el("summary", "Table of this chart"));
      section.append(details);
      host.append(section);
    }
    chartSection(
      key,
      `${metric.workflow}: ${metric.name} (mean, min, max)`,
      ["mean", "min", "max"],
      [`${metric.name} (mean)`, "min", "max", "values"],
      metric.t,
      [metric.mean, metric.min, metric.max, metric.count],
      data.period.slot,
    );
  });
  host.querySelectorAll<HTMLElement>(".chart-card").forEach((section) => {
    const key = section.id.replace(/^chart-/, "");
    if (!keys.has(key)) {
      charts.get(key)?.destroy();
      charts.delete(key);
      section.remove();
    }
  });
  const empty = document.getElementById("metrics-empty") as HTMLElement;
  empty.hidden = data.metrics.length > 0;
}

function render(data: Data): void {
  const s = data.series;
  const slot = data.period.slot;
  renderTotals(data);
  chartSection("throughput", "Throughput", ["Started", "Completed", "Failed"], ["Started", "Completed", "Failed"], s.t, [s.started, s.completed, s.failed], slot);
  chartSection("failure-rate", "Failure rate (%)", ["Not completed, % of ended"], ["Not completed (%)"], s.t, [s.failure_rate], slot);
  renderNow(data);
  renderTables(data);
  renderMetrics(data);
  root.dataset.generatedAt = data.generated_at;
  root.dataset.fetches = String(fetches);
}

function query(): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form).entries()) {
    if (typeof value === "string" && value !== "") params.set(name, value);
  }
  if (params.get("period") !== "custom") {
    params.delete("from");
    params.delete("to");
  }
  return params;
}

async function load(): Promise<void> {
  if (inFlight) {
    schedule();
    return;
  }
  inFlight = true;
  lastFetch = Date.now();
  const status = document.getElementById("dashboard-status") as HTMLElement;
  try {
    const response = await fetch(`${dataUrl}?${query()}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) {
      status.textContent = String(body.detail ?? response.statusText);
      return;
    }
    fetches += 1;
    status.textContent = "";
    render(body as Data);
  } catch (error) {
    status.textContent = `Could not load the dashboard: ${error}`;
  } finally {
    inFlight = false;
  }
}

function schedule(): void {
  // Coalesce: one fetch per MIN_INTERVAL_MS at most, and always one after the last message.
  if (pending) return;
  const wait = Math.max(0, lastFetch + MIN_INTERVAL_MS - Date.now());
  pending = window.setTimeout(() => {
    pending = 0;
    void load();
  }, wait);
}

function showCustom(): void {
  const custom = (form.elements.namedItem("period") as HTMLSelectElement).value === "custom";
  (document.getElementById("custom-range") as HTMLElement).hidden = !custom;
}

form.addEventListener("change", () => {
  showCustom();
  window.history.replaceState(null, "", `?${query()}`);
  schedule();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  schedule();
});
showCustom();

const initial = document.getElementById("dashboard-initial");
if (initial?.textContent) render(JSON.parse(initial.textContent) as Data);
window.setInterval(schedule, REFRESH_MS);
type Live = { follow: (path: string, changed: (quiet: boolean) => void) => unknown };
const live = (window as unknown as { stepwiseLive?: Live }).stepwiseLive;
const following = live?.follow(root.dataset.socket as string, () => {
  root.dataset.liveConnected = (following as { connected(): boolean }).connected() ? "1" : "0";
  schedule();
});
