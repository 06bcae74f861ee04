"""Adding what workflows record with metric() to the per-minute metric rollups
(engine.models.MetricRollup): count, sum, min and max per workflow, name and minute.

Added in the transaction that writes the RunMetric rows (engine.runtime.fence.write_reports), so a
value is counted exactly when it is committed; merged into hours and rebuilt from RunMetric like
the run and step rollups (engine.runtime.rollup_rebuild).
"""

import functools
from datetime import datetime
from typing import Any

from django.db import connection

from engine.models import MetricRollup, Run, RunMetric
from engine.runtime.rollups import RollupTable, add_to_rollup, minute_of, upsert_sql

METRIC_KEYS = ["minute", "workflow", "name"]
METRIC_ADDED = ["count", "value_sum"]
COLUMNS = [*METRIC_KEYS, *METRIC_ADDED, "value_min", "value_max"]


@functools.lru_cache(maxsize=64)
def metric_upsert_sql(rows: int = 1) -> str:
    table = MetricRollup._meta.db_table
    # CASE, not LEAST/GREATEST: the embedded SQLite has neither.
    extra = (
        f", value_min = CASE WHEN excluded.value_min < {table}.value_min "
        f"THEN excluded.value_min ELSE {table}.value_min END"
        f", value_max = CASE WHEN excluded.value_max > {table}.value_max "
        f"THEN excluded.value_max ELSE {table}.value_max END"
    )
    return upsert_sql(
        table, METRIC_KEYS, METRIC_ADDED, ["value_min", "value_max"], extra, rows=rows
    )


def merge_metric(held: list[Any], new: list[Any]) -> list[Any]:
    """Two additions to one row: counts and sums add, the range widens."""
    return [
        *held[:3],
        held[3] + new[3],
        held[4] + new[4],
        min(held[5], new[5]),
        max(held[6], new[6]),
    ]


METRICS = RollupTable(2, len(METRIC_KEYS), metric_upsert_sql, merge_metric)


def metric_values(*, workflow: str, name: str, value: float, at: datetime) -> list[Any]:
    return [minute_of(at), workflow, name[:100], 1, value, value, value]


def add_metric(*, workflow: str, name: str, value: float, at: datetime) -> None:
    """Inside the transaction that stores the RunMetric row."""
    add_to_rollup(METRICS, metric_values(workflow=workflow, name=name, value=value, at=at))


def rebuild_metric_rollups(*, in_python: bool, batch: int = 5000) -> int:
    """Inside the rebuild's transaction: recompute every metric rollup row from RunMetric;
    returns the rows written."""
    MetricRollup.objects.all().delete()
    if not in_python:
        metric, run = RunMetric._meta.db_table, Run._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {MetricRollup._meta.db_table} "  # noqa: S608 (model names)
                f"({', '.join(COLUMNS)}) "
                f"SELECT date_trunc('minute', m.recorded_at), r.workflow, m.name, count(*), "
                f"SUM(m.value), MIN(m.value), MAX(m.value) "
                f"FROM {metric} AS m JOIN {run} AS r ON r.id = m.run_id "
                f"GROUP BY 1, 2, 3"
            )
            return int(cursor.rowcount)
    rows: dict[tuple[Any, ...], list[Any]] = {}
    recorded = RunMetric.objects.values_list("run__workflow", "name", "value", "recorded_at")
    for workflow, name, value, at in recorded.iterator(chunk_size=batch):
        values = metric_values(workflow=workflow, name=name, value=value, at=at)
        key = tuple(values[:3])
        rows[key] = values if key not in rows else merge_metric(rows[key], values)
    MetricRollup.objects.bulk_create(
        (MetricRollup(**dict(zip(COLUMNS, values, strict=True))) for values in rows.values()),
        batch_size=batch,
    )
    return len(rows)


def compact_metric_rollups(before: datetime) -> int:
    """Inside the compaction's transaction: merge minute rows older than `before` into the row
    of their hour, as engine.runtime.rollup_rebuild.compact_rollups does for runs and steps."""
    if connection.vendor == "postgresql":
        table = MetricRollup._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH moved AS (DELETE FROM {table} WHERE minute < %s "  # noqa: S608
                f"AND minute <> date_trunc('hour', minute) RETURNING *), "
                f"merged AS (INSERT INTO {table} ({', '.join(COLUMNS)}) "
                f"SELECT date_trunc('hour', minute), workflow, name, SUM(count), SUM(value_sum), "
                f"MIN(value_min), MAX(value_max) FROM moved "
                f"GROUP BY date_trunc('hour', minute), workflow, name "
                f"ON CONFLICT ({', '.join(METRIC_KEYS)}) DO UPDATE SET "
                f"count = {table}.count + excluded.count, "
                f"value_sum = {table}.value_sum + excluded.value_sum, "
                f"value_min = LEAST({table}.value_min, excluded.value_min), "
                f"value_max = GREATEST({table}.value_max, excluded.value_max)) "
                f"SELECT count(*) FROM moved",
                [before],
            )
            return int(cursor.fetchone()[0])
    # The embedded SQLite: small tables, one writer at a time.
    old = list(MetricRollup.objects.filter(minute__lt=before).exclude(minute__minute=0))
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for row in old:
        values = [getattr(row, column) for column in COLUMNS]
        values[0] = row.minute.replace(minute=0)
        key = tuple(values[:3])
        merged[key] = values if key not in merged else merge_metric(merged[key], values)
    MetricRollup.objects.filter(pk__in=[row.pk for row in old]).delete()
    for values in merged.values():
        add_to_rollup(METRICS, values)
    return len(old)
