"""Fan-out: a 10,000-item loop and 1,000 parallel branches complete; their pages open fast.

On real services (PostgreSQL, Redis, a prefork `celery worker` with two processes, Daphne):
runs a graph whose `logic.loop` walks 10,000 items 50 at a time and a code workflow with 1,000
parallel steps, prints how long each took, then times what a person opens for them against the
same for a 10-step run (the baseline, measured in the same run):
- on the server (Django's test client, in this process): the run page `/runs/<id>/`, its
  timeline `GET /api/runs/<id>/timeline` and the canvas overlay's
  `GET /api/runs/<id>/step-states`, with
  the number of SQL statements each took, and for a run whose timeline folds its fan-out the
  first page of the folded items (`GET /api/runs/<id>/timeline/items`);
- in headless Chromium through Daphne: the run page until its timeline has drawn rows, and
  the canvas with the run laid over (`/designer/<slug>/?run=<id>`) until a node shows it.
Prints figures and ratios, never fails a build.

    .venv/bin/python bench/fanout.py [--items 10000] [--branches 1000] [--quick]
"""

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import (
    BenchError,
    bench_environment,
    celery_worker,
    check_completed,
    note,
    poll,
    run_in_this_process,
)
from tests.http import csrf_headers, logged_in_client
from tests.processes import free_port, start_process, wait_until

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_fanout"
LOOP = "bench-fanout-loop"
USER, PASSWORD = "bench-fanout", "bench-fanout-password"
SERVER_SAMPLES = 5
AIM_SECONDS = 1.0


def loop_graph() -> dict[str, Any]:
    """trigger → loop over input.items (50 at a time) → one transform per item → end."""
    return {
        "nodes": [
            {"id": "start", "type": "trigger.manual", "position": {"x": 0, "y": 0}},
            {
                "id": "each",
                "type": "logic.loop",
                "config": {"items": "input.items", "concurrency": 50},
                "position": {"x": 250, "y": 0},
            },
            {
                "id": "work",
                "type": "flow.transform",
                "config": {"output": "item"},
                "position": {"x": 500, "y": 120},
            },
            {
                "id": "done",
                "type": "flow.transform",
                "config": {"output": "1"},
                "position": {"x": 500, "y": -120},
            },
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "handle": "body", "target": "work"},
            {"id": "e3", "source": "work", "target": "each"},
            {"id": "e4", "source": "each", "handle": "done", "target": "done"},
        ],
    }


def prepare_user() -> None:
    from django.contrib.auth.models import Group, User

    User.objects.filter(username=USER).delete()
    user = User.objects.create_user(USER, password=PASSWORD)
    for group in ("viewers", "designers", "operators"):
        user.groups.add(Group.objects.get_or_create(name=group)[0])


def publish_loop(base_url: str) -> None:
    from designer.models import Workflow

    Workflow.objects.filter(slug=LOOP).delete()
    client = logged_in_client(base_url, USER, PASSWORD)
    body = {"slug": LOOP, "title": "Bench fan-out loop", "graph": loop_graph()}
    created = client.post("/api/workflows", json=body, headers=csrf_headers(client))
    published = client.post(f"/api/workflows/{LOOP}/publish", json={}, headers=csrf_headers(client))
    # 409: an earlier bench run already published this very graph.
    if created.status_code != 201 or published.status_code not in (200, 201, 409):
        raise BenchError(f"could not publish the loop: {created.text} {published.text}")


def run_to_end(workflow: str, run_input: dict[str, Any]) -> tuple[int, float]:
    from engine.models import TERMINAL_STATUSES, Run
    from engine.runtime.runs import start_run

    began = time.perf_counter()
    run = start_run(workflow, run_input)
    rows = Run.objects.filter(pk=run.pk).values_list("status", flat=True)
    poll(lambda: rows.first() in TERMINAL_STATUSES, 0.1, 1800, f"run {run.pk} of {workflow}")
    elapsed = time.perf_counter() - began
    check_completed([run.pk])
    return run.pk, elapsed


# --- on the server --------------------------------------------------------------------------
def server_paths(run_id: int) -> dict[str, str]:
    return {
        "run page": f"/runs/{run_id}/",
        "timeline API": f"/api/runs/{run_id}/timeline",
        "overlay's step states": f"/api/runs/{run_id}/step-states",
    }


def server_times(run_id: int) -> dict[str, tuple[float, int, int]]:
    """Per path: the median seconds, SQL statements and bytes of a request."""
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=USER))
    figures = {}
    for name, path in server_paths(run_id).items():
        seconds, statements, response = server_time(client, path)
        figures[name] = (seconds, statements, len(response.content))
        if name == "timeline API":
            folded = [row["group"] for row in response.json()["rows"] if row.get("group")]
            if folded:  # a fan-out: the chart pages its items from here
                items_path = f"/api/runs/{run_id}/timeline/items?group={folded[0]}"
                seconds, statements, response = server_time(client, items_path)
                figures["a page of folded items"] = (seconds, statements, len(response.content))
    return figures


def server_time(client: Any, path: str) -> tuple[float, int, Any]:
    """The median seconds of SERVER_SAMPLES reads, the statements of one, and its answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds = []
    for _ in range(SERVER_SAMPLES):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(path)
            seconds.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}")
    return statistics.median(seconds), len(queries), response


# --- in Chromium ----------------------------------------------------------------------------
def page_times(page: Any, base_url: str, run_id: int, canvas: bool) -> dict[str, float]:
    def opened(path: str, ready: str) -> float:
        began = time.perf_counter()
        page.goto(f"{base_url}{path}")
        page.wait_for_selector(ready, state="attached", timeout=60_000)
        return time.perf_counter() - began

    times = {"run page, rows drawn": opened(f"/runs/{run_id}/", "[data-timeline-rows] > *")}
    if canvas:  # a code workflow has no canvas
        times["canvas with the run laid over"] = opened(
            f"/designer/{LOOP}/?run={run_id}", "[data-run-state=done]"
        )
    return times


def browse(base_url: str, runs: dict[str, int]) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        note("Chromium is not installed (.ci/ensure-chromium): no page timings")
        return {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base_url}/login/")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base_url}/")
        page_times(page, base_url, runs["baseline"], canvas=True)  # static files now cached
        timings = {
            name: page_times(page, base_url, run_id, canvas=name != "parallel")
            for name, run_id in runs.items()
        }
        browser.close()
    return timings


# --- the run --------------------------------------------------------------------------------
def measure(args: argparse.Namespace, app: Any, env: dict[str, str], log_dir: Path) -> None:
    port = free_port()
    server = start_process(
        "bench-daphne", ["manage.py", "serve", "--no-worker", "--port", str(port)], env, log_dir
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: "Stepwise is serving" in server.log(), 180, "Daphne", server)
        prepare_user()
        publish_loop(base_url)
        with celery_worker(app, env, log_dir, concurrency=2):
            baseline, _ = run_to_end(LOOP, {"items": list(range(10))})
            note(f"a loop of {args.items:,} items, 50 at a time ...")
            loop, loop_seconds = run_to_end(LOOP, {"items": list(range(args.items))})
            note(f"{args.branches:,} parallel branches ...")
            branches, branch_seconds = run_to_end("bench-parallel", {"branches": args.branches})
        runs = {"baseline": baseline, "loop": loop, "parallel": branches}
        server_figures = {name: server_times(run_id) for name, run_id in runs.items()}
        browser_figures = browse(base_url, runs)
    finally:
        server.stop()
    report(args, loop_seconds, branch_seconds, server_figures, browser_figures)


def report(
    args: argparse.Namespace,
    loop_seconds: float,
    branch_seconds: float,
    server: dict[str, dict[str, tuple[float, int, int]]],
    browser: dict[str, dict[str, float]],
) -> None:
    ms = 1000
    print(f"fan-out on {os.cpu_count()} cores (1 worker, prefork concurrency 2)")
    print(f"  loop of {args.items:,} items, 50 at a time: {loop_seconds:.1f} s")
    print(f"  {args.branches:,} parallel branches:       {branch_seconds:.1f} s")
    names = {"loop": f"{args.items:,}-item loop", "parallel": f"{args.branches:,} branches"}
    print("server time, median of 5 (SQL statements, bytes); baseline: a 10-item loop run")
    worst: list[tuple[str, float]] = []
    for what in server_paths(0):
        base, base_queries, _ = server["baseline"][what]
        print(f"  {what:<22} baseline {base * ms:7.1f} ms ({base_queries} SQL)")
        for run, label in names.items():
            seconds, queries, size = server[run][what]
            worst.append((f"{what}, {label}", seconds))
            print(
                f"  {'':<22} {label:<18} {seconds * ms:7.1f} ms ({queries} SQL, {size:,} bytes)"
                f"  {seconds / base:6.1f}x"
            )
    for run, label in names.items():
        if "a page of folded items" in server[run]:
            seconds, queries, size = server[run]["a page of folded items"]
            print(
                f"  {'a page of folded items':<22} {label:<18} {seconds * ms:7.1f} ms "
                f"({queries} SQL, {size:,} bytes; 50 items)"
            )
    if browser:
        print("in Chromium, page load until usable; baseline: the 10-item loop run")
        for what, base in browser["baseline"].items():
            print(f"  {what:<32} baseline {base * ms:7.0f} ms")
            for run, label in names.items():
                if what not in browser[run]:
                    continue
                seconds = browser[run][what]
                worst.append((f"{what}, {label}", seconds))
                print(f"  {'':<32} {label:<18} {seconds * ms:7.0f} ms  {seconds / base:5.1f}x")
    print("aims")
    slowest = max(worst, key=lambda pair: pair[1])
    met: Callable[[], bool] = lambda: slowest[1] <= AIM_SECONDS  # noqa: E731
    print(
        f"  run page and canvas open in under 1 s: {'met' if met() else 'NOT met'} "
        f"(slowest: {slowest[0]}, {slowest[1] * ms:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, help="loop items (default 10,000)")
    parser.add_argument("--branches", type=int, help="parallel branches (default 1,000)")
    parser.add_argument("--quick", action="store_true", help="1,000 items and 200 branches")
    args = parser.parse_args()
    args.items = args.items or (1000 if args.quick else 10_000)
    args.branches = args.branches or (200 if args.quick else 1000)
    env = bench_environment()
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
    # blocking reads between page actions.
    env["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    run_in_this_process("fanout.py", env, lambda app, logs: measure(args, app, env, logs))


if __name__ == "__main__":
    main()
