"""Upkeep of the rollups: recomputing them from the runs and the journal (for data from before
they existed), and merging old minutes into hours (compaction, from the timer loop).

On PostgreSQL two INSERT … SELECT … GROUP BY statements do it inside the database (a million
runs in seconds); elsewhere (the embedded SQLite) the rows are summed in Python. Both follow the
rules of engine.runtime.rollups, whose functions compute each row's values.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from engine.core.histograms import BOUNDS_SECONDS, BUCKETS
from engine.models import MetricRollup, Run, RunRollup, StepRecord, StepRollup
from engine.runtime.metric_rollups import compact_metric_rollups, rebuild_metric_rollups
from engine.runtime.rollups import (
    MINUTE_DETAIL,
    RUN_ADDED,
    RUN_KEYS,
    RUN_OUTCOMES,
    STEP_ADDED,
    STEP_KEYS,
    STEP_OUTCOMES,
    minute_of,
    run_values,
    step_values,
)


def _add(into: dict[Any, list[float]], key: Any, values: Sequence[Any]) -> None:
    current = into.get(key)
    if current is None:
        into[key] = [*values]
    else:
        for index, value in enumerate(values):
            current[index] += value


def rebuild_rollups(*, in_python: bool | None = None, batch: int = 5000) -> tuple[int, int, int]:
    """Recompute every rollup row from the runs, the journal and the recorded metrics; returns
    the run, step and metric rows written.

    For data from before rollups existed, or after runs were deleted. The journal keeps every
    attempt, so step rollups come out as the engine kept them; a run counts once, by the way
    it ended last (an earlier ending of a retried run leaves no trace on the run row).
    """
    if in_python is None:
        in_python = connection.vendor != "postgresql"
    if not in_python:
        with transaction.atomic():
            RunRollup.objects.all().delete()
            StepRollup.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute(_postgresql_runs_sql())
                cursor.execute(_postgresql_steps_sql())
            metrics = rebuild_metric_rollups(in_python=False)
        tables = [model._meta.db_table for model in (RunRollup, StepRollup, MetricRollup)]
        with connection.cursor() as cursor:
            # Fresh statistics, or the planner scans whole tables it believes small.
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        return RunRollup.objects.count(), StepRollup.objects.count(), metrics
    runs: dict[tuple[datetime, str], list[float]] = {}
    for row in Run.objects.values(
        "workflow", "status", "created_at", "scheduled_for", "started_at", "finished_at"
    ).iterator(chunk_size=batch):
        workflow = row["workflow"]
        _add(runs, (minute_of(row["created_at"]), workflow), [1] + [0] * (len(RUN_ADDED) - 1))
        if row["status"] in RUN_OUTCOMES and row["finished_at"] is not None:
            ended = _Ended(**row)
            minute = minute_of(row["finished_at"])
            _add(
                runs,
                (minute, workflow),
                # A rebuilt minute is one row (shard 0), as compaction leaves it.
                run_values(workflow=workflow, minute=minute, ended=ended)[len(RUN_KEYS) :],
            )
    steps: dict[tuple[datetime, str, str], list[Any]] = {}
    attempts = StepRecord.objects.filter(
        kind="step", status__in=STEP_OUTCOMES, finished_at__isnull=False
    ).values_list("run_id", "run__workflow", "name", "status", "started_at", "finished_at")
    for run_id, workflow, name, status, started_at, finished_at in attempts.iterator(batch):
        assert finished_at is not None  # filtered above
        attempt = step_values(
            run_id=run_id,
            workflow=workflow,
            step=name,
            status=status,
            started_at=started_at,
            finished_at=finished_at,
        )
        assert attempt is not None
        values: list[Any] = attempt
        key = (values[0], workflow, values[2])
        # A rebuilt minute is one row (shard 0), as compaction leaves it.
        keys = len(STEP_KEYS)
        added, (slowest_run, slowest_seconds, failed_run) = values[keys:-3], values[-3:]
        known = steps.get(key)
        if known is None:
            steps[key] = [*added, slowest_run, slowest_seconds, failed_run]
            continue
        for index, value in enumerate(added):
            known[index] += value
        if slowest_seconds > known[-2]:
            known[-3], known[-2] = slowest_run, slowest_seconds
        known[-1] = failed_run or known[-1]
    with transaction.atomic():
        RunRollup.objects.all().delete()
        StepRollup.objects.all().delete()
        RunRollup.objects.bulk_create(
            (
                RunRollup(
                    minute=minute, workflow=workflow, **dict(zip(RUN_ADDED, row, strict=True))
                )
                for (minute, workflow), row in runs.items()
            ),
            batch_size=batch,
        )
        step_columns = [*STEP_ADDED, "slowest_run", "slowest_seconds", "failed_run"]
        StepRollup.objects.bulk_create(
            (
                StepRollup(
                    minute=minute,
                    workflow=workflow,
                    step=step,
                    **dict(zip(step_columns, row, strict=True)),
                )
                for (minute, workflow, step), row in steps.items()
            ),
            batch_size=batch,
        )
        metrics = rebuild_metric_rollups(in_python=True, batch=batch)
    return len(runs), len(steps), metrics


@dataclass
class _Ended:
    """What run_values reads from a run, from a values() row."""

    workflow: str
    status: str
    created_at: datetime
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


def _one_hot_sql(seconds: str, prefix: str) -> list[str]:
    """One 0/1 expression per bucket, as engine.core.histograms.bucket_of places a duration."""
    expressions = []
    for index in range(BUCKETS):
        low = f"{seconds} > {BOUNDS_SECONDS[index - 1]}" if index else "TRUE"
        high = f"{seconds} <= {BOUNDS_SECONDS[index]}" if index < len(BOUNDS_SECONDS) else "TRUE"
        expressions.append(
            f"CASE WHEN {seconds} IS NOT NULL AND {low} AND {high} THEN 1 ELSE 0 END "
            f"AS {prefix}{index:02d}"
        )
    return expressions


def _epoch(end: str, start: str) -> str:
    return f"GREATEST(0, EXTRACT(EPOCH FROM ({end} - {start})))::float"


def _sums(columns: Sequence[str]) -> str:
    return ", ".join(f"SUM({column})" for column in columns)


def _postgresql_runs_sql() -> str:
    run, rollup = Run._meta.db_table, RunRollup._meta.db_table
    zeros = ", ".join(f"0 AS {column}" for column in RUN_ADDED[1:])
    outcomes = ", ".join(
        f"(status = '{status}')::int AS {column}" for status, column in RUN_OUTCOMES.items()
    )
    ended = ", ".join(
        [
            "0 AS started",
            outcomes,
            "COALESCE(duration, 0) AS duration_sum",
            *_one_hot_sql("duration", "d"),
            "(wait IS NOT NULL)::int AS waited",
            "COALESCE(wait, 0) AS wait_sum",
            *_one_hot_sql("wait", "w"),
        ]
    )
    statuses = ", ".join(f"'{status}'" for status in RUN_OUTCOMES)
    columns = ", ".join(RUN_ADDED)
    return (
        f"INSERT INTO {rollup} (minute, workflow, {columns}) "  # noqa: S608 (model names)
        f"SELECT minute, workflow, {_sums(RUN_ADDED)} FROM ("
        f"SELECT date_trunc('minute', created_at) AS minute, workflow, 1 AS started, {zeros} "
        f"FROM {run} UNION ALL "
        f"SELECT date_trunc('minute', finished_at), workflow, {ended} FROM ("
        f"SELECT workflow, status, finished_at, "
        f"{_epoch('finished_at', 'started_at')} AS duration, "
        f"{_epoch('started_at', 'COALESCE(scheduled_for, created_at)')} AS wait "
        f"FROM {run} WHERE status IN ({statuses}) AND finished_at IS NOT NULL) AS endings"
        f") AS rows GROUP BY minute, workflow"
    )


def _postgresql_steps_sql() -> str:
    step, run, rollup = StepRecord._meta.db_table, Run._meta.db_table, StepRollup._meta.db_table
    outcomes = ", ".join(f"SUM((status = '{status}')::int)" for status in STEP_OUTCOMES)
    buckets = ", ".join(
        f"SUM({column.split(' AS ')[0]})" for column in _one_hot_sql("seconds", "d")
    )
    statuses = ", ".join(f"'{status}'" for status in STEP_OUTCOMES)
    columns = ", ".join([*STEP_ADDED, "slowest_run", "slowest_seconds", "failed_run"])
    return (
        f"INSERT INTO {rollup} (minute, workflow, step, {columns}) "  # noqa: S608
        f"SELECT minute, workflow, name, {outcomes}, SUM(seconds), {buckets}, "
        f"(array_agg(run_id ORDER BY seconds DESC))[1], MAX(seconds), "
        f"MAX(run_id) FILTER (WHERE status <> 'completed') FROM ("
        f"SELECT date_trunc('minute', s.finished_at) AS minute, r.workflow, "
        f"left(s.name, 200) AS name, s.status, s.run_id, "
        f"{_epoch('s.finished_at', 's.started_at')} AS seconds "
        f"FROM {step} AS s JOIN {run} AS r ON r.id = s.run_id "
        f"WHERE s.kind = 'step' AND s.status IN ({statuses}) AND s.finished_at IS NOT NULL"
        f") AS attempts GROUP BY minute, workflow, name"
    )


COMPACT_EVERY_SECONDS = 300.0
_last_compaction = 0.0


def compact_rollups(now: datetime | None = None) -> int:
    """Merge the minute rows older than MINUTE_DETAIL into the row of their hour (its first
    minute); returns the rows removed. A week is then about 300 rows per workflow, not 10,080.

    Sums over any range of whole hours are unchanged, and the merged rows are older than any
    ending still being written (engine.runtime.rollups), so the moves and the upserts never
    meet. Several timer loops may run it at once: a row is moved by the one that deletes it.
    """
    before = (now or timezone.now()) - MINUTE_DETAIL
    removed = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model, keys, added in (
                    (RunRollup, ["workflow"], RUN_ADDED),
                    (StepRollup, ["workflow", "step"], STEP_ADDED),
                ):
                    cursor.execute(_compact_sql(model, keys, added), [before])
                    removed += int(cursor.fetchone()[0])
        else:
            removed += _compact_in_python(RunRollup, before)
            removed += _compact_in_python(StepRollup, before)
        removed += compact_metric_rollups(before)
    return removed


def compact_rollups_now_and_then() -> int:
    """A timer-loop sweeper: compacts every few minutes, not every tick."""
    global _last_compaction
    if time.monotonic() - _last_compaction < COMPACT_EVERY_SECONDS:
        return 0
    _last_compaction = time.monotonic()
    compact_rollups()
    return 0  # nothing fired


def _compact_sql(model: Any, keys: list[str], added: list[str]) -> str:
    table = model._meta.db_table
    key_list = ", ".join(keys)
    columns = ", ".join(added)
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    # Every shard of a minute (engine.runtime.rollups.SHARDS) goes into shard 0 of its hour,
    # the hour's own minute included.
    moved = "(minute <> date_trunc('hour', minute) OR shard <> 0)"
    examples, example_sets = "", ""
    if model is StepRollup:
        examples = (
            ", (array_agg(slowest_run ORDER BY slowest_seconds DESC))[1], MAX(slowest_seconds), "
            "MAX(failed_run)"
        )
        example_sets = (
            f", slowest_run = CASE WHEN excluded.slowest_seconds > {table}.slowest_seconds "
            f"THEN excluded.slowest_run ELSE {table}.slowest_run END"
            f", slowest_seconds = GREATEST(excluded.slowest_seconds, {table}.slowest_seconds)"
            f", failed_run = COALESCE(excluded.failed_run, {table}.failed_run)"
        )
        columns += ", slowest_run, slowest_seconds, failed_run"
    return (
        f"WITH moved AS (DELETE FROM {table} WHERE minute < %s "  # noqa: S608 (model names)
        f"AND {moved} RETURNING *) "
        f", merged AS (INSERT INTO {table} (minute, {key_list}, {columns}) "
        f"SELECT date_trunc('hour', minute), {key_list}, {_sums(added)}{examples} "
        f"FROM moved GROUP BY date_trunc('hour', minute), {key_list} "
        f"ON CONFLICT (minute, {key_list}, shard) DO UPDATE SET {sets}{example_sets}) "
        f"SELECT count(*) FROM moved"
    )


def _compact_in_python(model: Any, before: datetime) -> int:
    """The same for SQLite (the embedded default: small tables, one writer at a time)."""
    added = RUN_ADDED if model is RunRollup else STEP_ADDED
    keys = ["workflow"] if model is RunRollup else ["workflow", "step"]
    hour_rows = {"shard": 0}
    rows = list(model.objects.filter(minute__lt=before).exclude(minute__minute=0, **hour_rows))
    merged: dict[tuple[Any, ...], Any] = {}
    for row in rows:
        hour = row.minute.replace(minute=0)
        key = (hour, *(getattr(row, k) for k in keys))
        target = merged.get(key)
        if target is None:
            found = dict(zip(keys, key[1:], strict=True), **hour_rows)
            target = model.objects.filter(minute=hour, **found).first()
            target = target or model(minute=hour, **found)
            merged[key] = target
        for column in added:
            setattr(target, column, getattr(target, column) + getattr(row, column))
        if model is StepRollup:
            if row.slowest_seconds > target.slowest_seconds:
                target.slowest_run, target.slowest_seconds = row.slowest_run, row.slowest_seconds
            target.failed_run = row.failed_run or target.failed_run
    model.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for target in merged.values():
        target.save()
    return len(rows)
