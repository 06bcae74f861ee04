"""The dashboard over a million runs, read from the rollups, against a plain indexed select.

Fills a database of its own (DATABASE_URL; by default the local server's
`stepwise_bench_dashboard`, created and migrated when missing) with N ended runs spread over the
last 7 days and 20 workflows (one in ten with 3 journaled steps), then rebuilds the rollups from
them with `rebuild_rollups` (the command for existing data), timed. The data set is kept and
reused by the next run of the same size. Then measures, each in turn with the baseline (50 runs,
newest first, by index: what the runs list reads): the dashboard's JSON for the last week and
for one workflow's last day, a /metrics scrape (the first one, which sums every rollup row, and
the later ones, which add only recent minutes), the week's metric() charts from the metric
rollups and, to show what rollups save, the same charts grouped from the RunMetric rows (as the
dashboard read them before) and counting the week's runs by status from the runs table itself.
Every other run records two metrics. Prints medians and ratios; never fails a build.

    .venv/bin/python bench/dashboard.py [--runs 1000000] [--repeat 15] [--quick]
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import (
    database_only_environment,
    defaults_for_the_rest,
    kept_size,
    note_dataset,
)
from bench.engine import BenchError, Progress, note, percentile, prepare_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_dashboard"
PREFIX = "dash-"
WORKFLOWS = 20
DAYS = 7
STEP_EVERY = 10
DATASET_VERSION = 2  # 2: every other run records two metrics
DATASET_TABLE = "bench_dashboard_dataset"
METRIC_EVERY = 2
WARMUP = 3
AIM_SECONDS = 0.5


def build_dataset(count: int) -> float:
    """Insert the runs and their steps in a few set-based statements; returns the rebuild's
    seconds. Everything older of the bench's own is deleted first."""
    from django.db import connection, transaction

    from engine.models import Run, RunMetric, StepRecord
    from engine.runtime.rollup_rebuild import compact_rollups, rebuild_rollups

    runs, steps, metrics = Run._meta.db_table, StepRecord._meta.db_table, RunMetric._meta.db_table
    filled = (
        "workflow, kind, version, status, depth, trigger, trigger_ref, created_at, started_at, "
        "finished_at, lease_owner, wake_requested, redo, is_test"
    )
    rest_columns, rest_values = defaults_for_the_rest(Run, set(filled.split(", ")))
    step_filled = (
        "run_id, seq, branch, attempt, kind, name, status, started_at, finished_at, superseded"
    )
    step_rest_columns, step_rest_values = defaults_for_the_rest(
        StepRecord, set(step_filled.split(", "))
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {metrics} WHERE run_id IN "  # noqa: S608 (names from the models)
            f"(SELECT id FROM {runs} WHERE workflow LIKE %s)",
            [f"{PREFIX}%"],
        )
        cursor.execute(
            f"DELETE FROM {steps} WHERE run_id IN "  # noqa: S608 (names from the models)
            f"(SELECT id FROM {runs} WHERE workflow LIKE %s)",
            [f"{PREFIX}%"],
        )
        cursor.execute(f"DELETE FROM {runs} WHERE workflow LIKE %s", [f"{PREFIX}%"])  # noqa: S608
        # Durations from a few ms to about a minute, skewed short; 2% failed, 1% cancelled.
        cursor.execute(
            f"""
            INSERT INTO {runs} ({filled}{rest_columns})
            SELECT %s || (i %% {WORKFLOWS}), 'code', '1',
                CASE WHEN i %% 50 = 0 THEN 'failed' WHEN i %% 97 = 0 THEN 'cancelled'
                     WHEN i %% 211 = 0 THEN 'timed_out' ELSE 'completed' END,
                0, 'api', '', t, t + (i %% 13) * interval '7 ms',
                t + (i %% 13) * interval '7 ms' + power((i::bigint * 7919) %% 1000 / 1000.0, 3)
                    * interval '60 s',
                '', false, '{{}}'::jsonb, false{rest_values}
            FROM (SELECT i, now() - i * interval '{DAYS} days' / %s AS t
                  FROM generate_series(1, %s) AS i) AS spread
            """,  # noqa: S608 (table names from the models)
            [PREFIX, count, count],
        )
        cursor.execute(
            f"""
            INSERT INTO {steps} ({step_filled}{step_rest_columns})
            SELECT r.id, s, 0, 1, 'step', 'step-' || s,
                CASE WHEN r.status = 'failed' AND s = 3 THEN 'failed' ELSE 'completed' END,
                r.started_at + (s - 1) * (r.finished_at - r.started_at) / 3,
                r.started_at + s * (r.finished_at - r.started_at) / 3, false{step_rest_values}
            FROM {runs} AS r, generate_series(1, 3) AS s
            WHERE r.workflow LIKE %s AND r.id %% {STEP_EVERY} = 0
            """,  # noqa: S608
            [f"{PREFIX}%"],
        )
        # An amount and an item count per run, recorded as each run ended.
        cursor.execute(
            f"""
            INSERT INTO {metrics} (run_id, name, value, recorded_at)
            SELECT r.id, m.name, (r.id %% 997) * m.scale, r.finished_at
            FROM {runs} AS r,
                (VALUES ('amount', 0.37), ('items', 0.01)) AS m (name, scale)
            WHERE r.workflow LIKE %s AND r.id %% {METRIC_EVERY} = 0
            """,  # noqa: S608
            [f"{PREFIX}%"],
        )
        note_dataset(DATASET_TABLE, DATASET_VERSION, count)
    cursor = connection.cursor()
    cursor.execute(f"ANALYZE {runs}; ANALYZE {steps}; ANALYZE {metrics}")
    began = time.perf_counter()
    rebuild_rollups()
    took = time.perf_counter() - began
    began = time.perf_counter()
    merged = compact_rollups()
    note(
        f"rebuild_rollups: {took:.1f} s; {merged:,} minute rows merged into hours in "
        f"{time.perf_counter() - began:.1f} s"
    )
    return took


def write_cost(samples: int) -> dict[str, float]:
    """Median seconds of one step result journaled as the engine does (the fenced insert) with
    and without its rollup (one statement either way on PostgreSQL), and of a run's ending
    (its status update and commit) with and without the rollup upsert; taken in turn."""
    from django.db import connection, transaction
    from django.utils import timezone

    from engine.models import Run, RunStatus, StepRecord
    from engine.runtime.fence import _execute, _fenced_insert_fields, _fenced_step_sql
    from engine.runtime.rollups import add_run_ended, step_values

    now = timezone.now()
    holder = Run.objects.create(
        workflow=f"{PREFIX}writes",
        version="1",
        status=RunStatus.RUNNING,
        created_at=now,
        started_at=now,
        lease_owner="bench",
        lease_until=now + timezone.timedelta(hours=1),
    )
    fence = [holder.pk, "bench", RunStatus.RUNNING]
    fields = _fenced_insert_fields()
    plain = _fenced_step_sql(with_rollup=False, with_progress=False)
    counted = _fenced_step_sql(with_rollup=True, with_progress=False)
    timings: dict[str, list[float]] = {"step": [], "step+rollup": [], "end": [], "end+rollup": []}
    for seq in range(samples):
        for name, sql in (("step", plain), ("step+rollup", counted)):
            record = StepRecord(
                run=holder,
                seq=seq * 2 + (name != "step"),
                kind="step",
                name="write",
                status="completed",
                started_at=timezone.now(),
                finished_at=timezone.now(),
            )
            values = [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
            extra = (
                []
                if name == "step"
                else step_values(
                    run_id=holder.pk,
                    workflow=holder.workflow,
                    step="write",
                    status="completed",
                    started_at=record.started_at,
                    finished_at=record.finished_at,
                )
                or []
            )
            began = time.perf_counter()
            _execute(sql, [*values, *fence, *extra])
            timings[name].append(time.perf_counter() - began)
        for name in ("end", "end+rollup"):
            ended = Run.objects.create(
                workflow=f"{PREFIX}writes",
                version="1",
                status=RunStatus.RUNNING,
                created_at=now,
                started_at=now,
            )
            began = time.perf_counter()
            with transaction.atomic():
                Run.objects.filter(pk=ended.pk).update(
                    status=RunStatus.COMPLETED, finished_at=timezone.now()
                )
                if name == "end+rollup":
                    ended.status, ended.finished_at = RunStatus.COMPLETED, timezone.now()
                    add_run_ended(ended)
            timings[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in timings.items()}


def raw_metric_charts(period: Any, slot: str) -> object:
    """The week's metric() charts grouped from the RunMetric rows: what the dashboard did before
    the metric rollups (the same top names, then one grouped query per chart)."""
    from datetime import UTC

    from django.db.models import Count, F, Sum
    from django.db.models.functions import Trunc

    from engine.models import RunMetric

    recorded = RunMetric.objects.filter(
        recorded_at__gte=period.start, recorded_at__lt=period.end
    ).annotate(workflow=F("run__workflow"))
    names = list(
        recorded.values("workflow", "name")
        .annotate(n=Count("pk"))
        .order_by("-n", "workflow", "name")
        .values_list("workflow", "name")[:8]
    )
    return [
        list(
            recorded.filter(run__workflow=workflow, name=name)
            .annotate(slot=Trunc("recorded_at", slot, tzinfo=UTC))
            .values("slot")
            .annotate(total=Sum("value"), n=Count("pk"))
            .order_by("slot")
        )
        for workflow, name in names
    ]


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs in the data set (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=15, help="samples of each (default 15)")
    parser.add_argument("--quick", action="store_true", help="50,000 runs, for a smoke check")
    args = parser.parse_args()
    count = args.runs or (50_000 if args.quick else 1_000_000)
    if count < 1000 or args.repeat < 1:
        parser.error("--runs at least 1000, --repeat at least 1")
    env = database_only_environment(DEFAULT_DATABASE_URL)
    note(f"preparing {env['DATABASE_URL']} ...")
    try:
        prepare_database(env)
    except BenchError as exc:
        note(f"\nbench/dashboard.py could not measure: {exc}")
        raise SystemExit(1) from None
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone
    from prometheus_client import generate_latest
    from prometheus_client.registry import CollectorRegistry

    from engine.models import MetricRollup, Run, RunMetric, RunRollup, StepRollup
    from engine.runtime.rollup_rebuild import compact_rollups
    from monitoring.dashboards import chart_slot, dashboard, metric_charts, parse_period
    from monitoring.prometheus import StepwiseCollector

    if kept_size(DATASET_TABLE, DATASET_VERSION) == count:
        began = time.perf_counter()
        merged = compact_rollups()  # what the timer loop does every few minutes
        took = time.perf_counter() - began
        built = f"reused; {merged:,} minute rows merged into hours in {took:.1f} s"
    else:
        note(f"building {count:,} runs and rebuilding the rollups ...")
        began = time.perf_counter()
        rebuild = build_dataset(count)
        took = time.perf_counter() - began
        built = f"built in {took:.0f} s, of which rebuild_rollups {rebuild:.1f} s"

    # As autovacuum would soon after a compaction: without it the merged rows' dead tuples are
    # scanned too.
    with connection.cursor() as cursor:
        tables = [model._meta.db_table for model in (RunRollup, StepRollup, MetricRollup)]
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")

    def week() -> object:
        return json.dumps(dashboard(parse_period({"period": "week"}), None))

    def one_workflow_day() -> object:
        return json.dumps(dashboard(parse_period({"period": "day"}), f"{PREFIX}7"))

    the_week = parse_period({"period": "week"})
    week_slot = chart_slot(the_week, timezone.now())

    def metrics() -> object:
        return json.dumps(metric_charts(the_week, None, week_slot))

    def metrics_raw() -> object:
        return raw_metric_charts(the_week, week_slot)

    def baseline() -> object:
        return list(Run.objects.order_by("-created_at")[:50])

    def scan() -> object:
        since = timezone.now() - timezone.timedelta(days=DAYS)
        return list(
            Run.objects.filter(created_at__gte=since).values("status").annotate(n=Count("pk"))
        )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StepwiseCollector())
    first_scrape = timed(lambda: generate_latest(registry))

    def scrape() -> object:
        return generate_latest(registry)

    measured: dict[str, list[float]] = {
        name: [] for name in ["week", "day", "scrape", "metrics", "metrics_raw", "scan", "baseline"]
    }
    actions = {
        "week": week,
        "day": one_workflow_day,
        "scrape": scrape,
        "metrics": metrics,
        "metrics_raw": metrics_raw,
        "scan": scan,
        "baseline": baseline,
    }
    for action in actions.values():
        for _ in range(WARMUP):
            action()
    progress = Progress(args.repeat, "rounds")
    for index in range(args.repeat):
        for name, action in actions.items():
            measured[name].append(timed(action))
        progress.show(index + 1)

    base = statistics.median(measured["baseline"])
    size = len(week())
    print(f"bench/dashboard.py: {count:,} runs over {DAYS} days, {WORKFLOWS} workflows ({built})")
    print(
        f"  rollup rows: {RunRollup.objects.count():,} run, {StepRollup.objects.count():,} step, "
        f"{MetricRollup.objects.count():,} metric "
        f"(from {RunMetric.objects.count():,} RunMetric rows)"
    )
    print(f"  {'':<44} {'median':>10} {'p95':>10} {'x baseline':>11}")
    labels = {
        "week": f"dashboard JSON, last week ({size:,} bytes)",
        "day": "dashboard JSON, one workflow's last day",
        "scrape": "/metrics scrape (after the first)",
        "metrics": "metric() charts, last week (metric rollups)",
        "metrics_raw": "the same from RunMetric rows (no rollup)",
        "scan": "count the week's runs by status (no rollup)",
        "baseline": "baseline: 50 newest runs (SELECT … LIMIT 50)",
    }
    for name, label in labels.items():
        median = statistics.median(measured[name])
        p95 = percentile(measured[name], 0.95)
        print(f"  {label:<44} {median * 1000:8.1f} ms {p95 * 1000:7.1f} ms {median / base:10.1f}x")
    print(f"  first /metrics scrape (sums every rollup row): {first_scrape * 1000:.0f} ms")
    costs = write_cost(args.repeat * 20)
    print("  what keeping the rollups costs a worker (medians, taken in turn):")
    for what, label in (("step", "a step's result journaled"), ("end", "a run's ending")):
        alone, counted = costs[what] * 1000, costs[f"{what}+rollup"] * 1000
        print(f"    {label:<28} {alone:6.3f} ms alone, {counted:6.3f} ms counted")
    verdict = "met" if statistics.median(measured["week"]) <= AIM_SECONDS else "NOT met"
    print(f"  aim: the week's dashboard in at most {AIM_SECONDS * 1000:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
