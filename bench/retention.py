"""Pruning a million expired runs while new runs keep being created.

Fills a database of its own (DATABASE_URL; by default the local server's
`stepwise_bench_retention`, created and migrated when missing) with N ended runs over 50
workflows, each with one journal row, all past their retention. A writer creates runs one
transaction at a time, first alone (the baseline), then while retention prunes every expired run
in its batches (engine.runtime.retention.prune_batch, as the timer loop does). Prints the prune
rate and the writer's latency in both phases with the ratio: pruning must not block new runs.
Never fails a build.

    .venv/bin/python bench/retention.py [--runs 1000000] [--writes 400]
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import defaults_for_the_rest
from bench.engine import note, percentile, prepare_database
from tests.processes import process_environment

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_retention"
PREFIX = "retention-"
WORKFLOWS = 50


def seed(count: int) -> None:
    """N ended runs, 60 days old, one step each, in set-based statements."""
    from django.db import connection

    from engine.models import Run, StepRecord

    run_columns = (
        "workflow, kind, version, status, input, depth, trigger, trigger_ref, created_at, "
        "started_at, finished_at, lease_owner, wake_requested, redo"
    )
    step_columns = (
        "run_id, seq, branch, attempt, kind, name, status, output, started_at, finished_at, "
        "superseded"
    )
    run_rest, run_rest_values = defaults_for_the_rest(Run, set(run_columns.split(", ")))
    step_rest, step_rest_values = defaults_for_the_rest(StepRecord, set(step_columns.split(", ")))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engine_steprecord WHERE run_id IN "
            "(SELECT id FROM engine_run WHERE workflow LIKE %s)",
            [f"{PREFIX}%"],
        )
        cursor.execute("DELETE FROM engine_run WHERE workflow LIKE %s", [f"{PREFIX}%"])
        cursor.execute(
            f"""
            INSERT INTO engine_run ({run_columns}{run_rest})
            SELECT %s || (i %% %s), 'code', '1', 'completed', jsonb_build_object('n', i), 0, 'api',
                '', now() - interval '61 days', now() - interval '61 days',
                now() - interval '60 days' + (i || ' milliseconds')::interval, '', false,
                '{{}}'{run_rest_values}
            FROM generate_series(1, %s) AS i
            """,  # noqa: S608 (column names from the models)
            [PREFIX, WORKFLOWS, count],
        )
        cursor.execute(
            f"""
            INSERT INTO engine_steprecord ({step_columns}{step_rest})
            SELECT id, 0, 0, 1, 'step', 'work', 'completed', '{{"ok": true}}', started_at,
                finished_at, false{step_rest_values}
            FROM engine_run WHERE workflow LIKE %s
            """,  # noqa: S608 (column names from the models)
            [f"{PREFIX}%"],
        )
        cursor.execute("ANALYZE engine_run")
        cursor.execute("ANALYZE engine_steprecord")


def write_runs(count: int, stop: threading.Event | None = None) -> list[float]:
    """Create runs one commit each; the seconds each took."""
    from django.db import connection
    from django.utils import timezone

    from engine.models import Run

    samples = []
    try:
        for n in range(count):
            if stop is not None and stop.is_set():
                break
            started = time.perf_counter()
            Run.objects.create(
                workflow=f"{PREFIX}live", version="1", input={"n": n}, created_at=timezone.now()
            )
            samples.append(time.perf_counter() - started)
    finally:
        connection.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=400, help="runs created in each phase")
    args = parser.parse_args()
    env = process_environment(
        DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        REDIS_URL=None,
        DEBUG="false",
        LOG_LEVEL="WARNING",
        STEPWISE_RETENTION_DAYS="30",
    )
    prepare_database(env)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from engine.models import Run
    from engine.runtime.retention import Retention, prune_batch

    note(f"seeding {args.runs:,} expired runs…")
    started = time.perf_counter()
    seed(args.runs)
    note(f"  seeded in {time.perf_counter() - started:.1f} s")

    baseline = write_runs(args.writes)
    pruned = 0
    done = threading.Event()

    def prune() -> None:
        nonlocal pruned
        from django.db import connection

        try:
            while batch := prune_batch(Retention(30, {})):
                pruned += batch
        finally:
            connection.close()
            done.set()

    pruner = threading.Thread(target=prune)
    prune_started = time.perf_counter()
    pruner.start()
    during = write_runs(args.writes, stop=done)
    pruner.join()
    prune_seconds = time.perf_counter() - prune_started
    left = Run.objects.filter(workflow__startswith=PREFIX).exclude(workflow=f"{PREFIX}live")

    print(f"retention: {pruned:,} runs pruned in {prune_seconds:.1f} s "
          f"({pruned / prune_seconds:,.0f} runs/s), {left.count()} expired left")  # fmt: skip
    for name, samples in (
        ("create a run, alone", baseline),
        ("create a run, while pruning", during),
    ):
        print(
            f"  {name:<30} median {statistics.median(samples) * 1000:6.2f} ms"
            f"   p95 {percentile(samples, 0.95) * 1000:6.2f} ms   ({len(samples)} runs)"
        )
    ratio = percentile(during, 0.95) / percentile(baseline, 0.95)
    print(f"  p95 while pruning / alone: {ratio:.2f}x")


if __name__ == "__main__":
    main()
