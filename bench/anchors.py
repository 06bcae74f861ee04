"""The anchors side by side: DBOS Transact's 10-step workflow against Stepwise's, one PostgreSQL.

Installs DBOS Transact (`dbos` from PyPI) into a throw-away virtual environment made with uv in
a temporary folder, never into the project's dependencies, and runs its 10-step no-op workflow
there against its own database on the same PostgreSQL server: one at a time for latency, then
many at once for throughput. Then runs Stepwise's 10-step workflow with bench/engine.py's
harness (a prefork `celery worker`, concurrency 1 for latency and 2 for throughput) and prints
Stepwise's ratio to DBOS. Prints figures, never fails a build.

    .venv/bin/python bench/anchors.py [--runs 30] [--burst 200] [--quick] [--dbos-version 2.*]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import (
    STEPS,
    BenchError,
    Counts,
    bench_environment,
    celery_worker,
    clean_up,
    note,
    percentile,
    prepare_database,
    workflow_burst,
    workflow_latency,
)
from tests.processes import PROJECT_ROOT, database_url_for

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_anchors"
DBOS_DATABASE = "stepwise_bench_dbos"

# Runs inside the throw-away environment: DBOS in-process, as its documentation runs it.
DBOS_SCRIPT = """
import json, os, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
from dbos import DBOS

STEPS, RUNS, WARMUP, BURST = (int(value) for value in sys.argv[1:5])

@DBOS.step()
def noop(index):
    return index

@DBOS.workflow()
def steps(count):
    for index in range(count):
        noop(index)
    return count

DBOS(config={"name": "stepwise-anchor", "system_database_url": os.environ["DBOS_URL"]})
DBOS.launch()
for _ in range(WARMUP):
    steps(STEPS)
latencies = []
for _ in range(RUNS):
    began = time.perf_counter()
    steps(STEPS)
    latencies.append(time.perf_counter() - began)
began = time.perf_counter()
handles = [DBOS.start_workflow(steps, STEPS) for _ in range(BURST)]
for handle in handles:
    handle.get_result()
burst = time.perf_counter() - began
import importlib.metadata
print(json.dumps({"latencies": latencies, "burst": burst,
                  "version": importlib.metadata.version("dbos")}))
DBOS.destroy()
"""


def uv() -> list[str]:
    found = shutil.which("uv")
    if found is None:
        raise BenchError("uv is not installed: pip install uv")
    return [found]


def run_dbos(database_url: str, counts: Counts, version: str) -> dict[str, object]:
    """Make the throw-away environment, install DBOS, run its workflow; its figures."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    with tempfile.TemporaryDirectory(prefix="stepwise-anchor-") as folder:
        venv = Path(folder) / "venv"
        python = venv / "bin" / "python"
        note(f"installing dbos{version} into a throw-away environment ({folder}) ...")
        for command in (
            [*uv(), "venv", "--quiet", "--python", "3.12", str(venv)],
            [*uv(), "pip", "install", "--quiet", "--python", str(python), f"dbos{version}"],
        ):
            done = subprocess.run(  # noqa: S603 - uv and fixed arguments, no user input
                command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise BenchError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
        script = Path(folder) / "dbos_steps.py"
        script.write_text(DBOS_SCRIPT)
        note(f"DBOS: {counts.runs} workflows one at a time, then {counts.burst} at once ...")
        arguments = [STEPS, counts.runs, counts.warmup, counts.burst]
        done = subprocess.run(  # noqa: S603 - the throw-away venv's python and our script
            [str(python), str(script), *map(str, arguments)],
            cwd=folder,
            env={**env, "DBOS_URL": database_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if done.returncode != 0:
            raise BenchError(f"the DBOS workflow failed:\n{done.stderr[-3000:]}")
        figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def recreate_database(url: str) -> None:
    """DBOS's own database, empty, beside Stepwise's on the same server."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(database_url_for(url, "postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_stepwise(counts: Counts, env: dict[str, str]) -> tuple[list[float], float]:
    from config.celery import app

    clean_up(app)
    with tempfile.TemporaryDirectory(prefix="stepwise-bench-") as log_dir:
        with celery_worker(app, env, Path(log_dir), concurrency=1):
            for _ in range(counts.warmup):
                workflow_latency()
            latencies = [workflow_latency() for _ in range(counts.runs)]
        with celery_worker(app, env, Path(log_dir), concurrency=2):
            workflow_burst(max(2, counts.warmup))
            burst = workflow_burst(counts.burst)
    clean_up(app)
    return latencies, burst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="latency samples of each (default 30)")
    parser.add_argument("--burst", type=int, help="workflows started at once (default 200)")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke check")
    parser.add_argument("--dbos-version", default="", help="a version specifier, e.g. ==2.4.0")
    args = parser.parse_args()
    counts = Counts(
        runs=args.runs or (5 if args.quick else 30),
        warmup=2 if args.quick else 5,
        burst=args.burst or (20 if args.quick else 200),
    )
    env = bench_environment()
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    dbos_url = database_url_for(env["DATABASE_URL"], DBOS_DATABASE)
    began, load = time.perf_counter(), os.getloadavg()[0]
    try:
        note(f"preparing {env['DATABASE_URL']} and {dbos_url} ...")
        prepare_database(env)
        recreate_database(dbos_url)
        os.environ.update(env)
        import django

        django.setup()
        dbos = run_dbos(dbos_url, counts, args.dbos_version)
        note("Stepwise: the same, on a real worker ...")
        stepwise, stepwise_burst = run_stepwise(counts, env)
    except BenchError as exc:
        note(f"\nbench/anchors.py could not measure: {exc}")
        raise SystemExit(1) from None
    dbos_latencies = [float(value) for value in dbos["latencies"]]  # type: ignore[attr-defined]
    dbos_burst = float(dbos["burst"])  # type: ignore[arg-type]
    ms = 1000
    print(
        f"the anchors: a {STEPS}-step no-op workflow, DBOS Transact {dbos['version']} and Stepwise "
        f"on the same PostgreSQL; {os.cpu_count()} cores, load average {load:.1f} at start"
    )
    row = "  {:<44} median {:7.1f} ms   p95 {:7.1f} ms"
    print(f"latency, one at a time ({counts.runs} samples each)")
    print(
        row.format(
            "DBOS (in-process, baseline)",
            *(percentile(dbos_latencies, f) * ms for f in (0.5, 0.95)),
        )
    )
    print(
        row.format(
            "Stepwise (API process → worker)", *(percentile(stepwise, f) * ms for f in (0.5, 0.95))
        )
    )
    ratio = statistics.median(stepwise) / statistics.median(dbos_latencies)
    print(f"  {'Stepwise / DBOS (medians)':<44} {ratio:.2f}x")
    total = counts.burst * STEPS
    print(f"throughput, {counts.burst} at once")
    print(f"  {'DBOS (one process, its thread pool)':<44} {total / dbos_burst:8,.0f} steps/s")
    print(f"  {'Stepwise (two worker processes)':<44} {total / stepwise_burst:8,.0f} steps/s")
    print(f"  {'Stepwise / DBOS':<44} {dbos_burst / stepwise_burst:.2f}x")
    print(f"took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
