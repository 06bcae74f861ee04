"""The canvas with a 1,000-node graph in headless Chromium, against an empty canvas as baseline.

Starts `manage.py serve` on a throw-away SQLite database, creates an empty workflow and one of
1,000 nodes (the most a graph may have) through the API, then opens each canvas and prints
time to first render (and how long the renderer's main thread was busy until then, which load
on the machine sways less), time to auto-layout (elkjs in its Web Worker) and frames per second
while panning. Never fails a build.

    .venv/bin/python bench/canvas.py [--nodes 1000]
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import CDPSession, Page, sync_playwright

from tests.http import csrf_headers, logged_in_client
from tests.processes import free_port, process_environment, start_process, wait_until

USER, PASSWORD = "designer", "stepwise-designer"
AIM_FIRST_RENDER, AIM_FPS = 1.0, 50.0


def chain(count: int) -> dict[str, Any]:
    """A manual trigger and a chain of transforms, branching every tenth node."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "trigger.manual"}]
    edges = []
    for index in range(1, count):
        nodes.append({"id": f"n{index}", "type": "flow.transform", "config": {"output": "1"}})
        source = "start" if index == 1 else f"n{index - 1 if index % 10 else index - 5}"
        edges.append({"id": f"e{index}", "source": source, "target": f"n{index}"})
    return {"nodes": nodes, "edges": edges}


def busy_seconds(cdp: CDPSession) -> float:
    """The renderer main thread's time spent on tasks so far (less swayed by load than wall)."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(metric["value"] for metric in metrics if metric["name"] == "TaskDuration")


def measure(page: Page, base_url: str, slug: str) -> dict[str, float]:
    page.goto("about:blank")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    busy_before = busy_seconds(cdp)
    began = time.perf_counter()
    page.goto(f"{base_url}/designer/{slug}/")
    page.wait_for_selector("html[data-canvas-ready='1']")
    page.wait_for_function(
        "document.querySelectorAll('.react-flow__node').length > 0 || "
        "!document.querySelector('[data-testid^=node-]') && "
        "document.querySelector('.react-flow__pane') !== null"
    )
    first_render = time.perf_counter() - began
    busy = busy_seconds(cdp) - busy_before
    cdp.detach()

    layout = float("nan")
    if page.locator(".react-flow__node").count():
        page.evaluate("delete document.documentElement.dataset.layoutDone")
        began = time.perf_counter()
        page.get_by_role("button", name="Auto-layout").click()
        page.wait_for_selector("html[data-layout-done]", timeout=120_000)
        layout = time.perf_counter() - began

    pane = page.locator(".react-flow__pane").bounding_box()
    assert pane is not None
    page.evaluate(
        "window.__frames = 0;"
        "(function tick() { window.__frames++; requestAnimationFrame(tick); })()"
    )
    x, y = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    start_frames = page.evaluate("window.__frames")
    began = time.perf_counter()
    for step in range(120):
        offset = 200 if (step // 30) % 2 else -200
        page.mouse.move(x + offset * ((step % 30) / 30), y + offset / 4 * ((step % 30) / 30))
    page.mouse.up()
    seconds = time.perf_counter() - began
    fps = (page.evaluate("window.__frames") - start_frames) / seconds
    return {"first_render": first_render, "busy": busy, "layout": layout, "fps": fps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("Chromium is not installed (.ci/ensure-chromium); skipping the canvas benchmark.")
        return
    with tempfile.TemporaryDirectory() as var_dir:
        env = process_environment(
            DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None, STEPWISE_VAR_DIR=var_dir
        )
        for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
            start_process("setup", ["manage.py", *command], env, Path(var_dir)).process.wait(120)
        port = free_port()
        server = start_process(
            "serve", ["manage.py", "serve", "--port", str(port)], env, Path(var_dir)
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: "Stepwise is serving" in server.log(), 60, "the server", server)
            client = logged_in_client(base_url, USER, PASSWORD)
            for slug, graph in (("bench-empty", None), ("bench-large", chain(args.nodes))):
                body = {"slug": slug, "title": slug, "graph": graph}
                client.post("/api/workflows", json=body, headers=csrf_headers(client))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium,
                    args=["--headless", "--no-sandbox", "--disable-background-networking"],
                )
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(f"{base_url}/login/")
                page.get_by_label("Username").fill(USER)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(f"{base_url}/")
                empty = measure(page, base_url, "bench-empty")
                large = measure(page, base_url, "bench-large")
                browser.close()
        finally:
            server.stop()

    print(f"canvas in headless Chromium (software rendering), {args.nodes} nodes vs empty")
    print(f"{'':<24}{'empty':>12}{f'{args.nodes} nodes':>14}")
    first = f"{empty['first_render'] * 1000:>9.0f} ms{large['first_render'] * 1000:>11.0f} ms"
    print(f"{'first render':<24}{first}")
    busy = f"{empty['busy'] * 1000:>9.0f} ms{large['busy'] * 1000:>11.0f} ms"
    print(f"{'  main thread busy':<24}{busy}")
    print(f"{'auto-layout':<24}{'—':>12}{large['layout'] * 1000:>11.0f} ms")
    print(f"{'FPS while panning':<24}{empty['fps']:>12.1f}{large['fps']:>14.1f}")
    ratio = large["first_render"] / empty["first_render"]
    print(f"{'first render / empty':<24}{ratio:>26.2f}x")
    print("aims")
    render_met = "met" if large["first_render"] <= AIM_FIRST_RENDER else "NOT met"
    fps_met = "met" if large["fps"] >= AIM_FPS else "NOT met"
    print(f"  first render at most 1 s: {render_met} ({large['first_render'] * 1000:.0f} ms)")
    print(f"  pans at 50 fps or more:   {fps_met} ({large['fps']:.1f} fps)")


if __name__ == "__main__":
    main()
