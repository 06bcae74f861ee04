"""Adding a run's or a step's ending to the per-minute rollups (engine.models.rollups).

Each addition is one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` statement (on
PostgreSQL and SQLite alike) issued in the transaction that writes the ending itself, so an
ending is counted exactly when it is committed: a crash before the commit counts nothing, and a
redelivered message that finds the run already ended writes no ending and adds nothing.

What counts (the rule a reader of the dashboard needs):
- `started` grows when a run is created; an ending grows `completed`, `failed`, `cancelled` or
  `timed_out` in the minute the run ended. A run retried after it failed ends again: both
  endings count (one failed, then perhaps one completed), as both happened.
- A run's duration is first start to end; its queue wait, creation (or the time it was
  scheduled for) to first start. Both are recorded once per ending.
- Steps count attempts: an attempt that failed and will be retried adds to `retrying`, the
  last one to `completed` or `failed`; each attempt's own duration goes to the histogram.

Lock order: an upsert locks its row until the transaction commits, and a row is shared by every
writer of that minute. Two transactions taking two rows in opposite orders (one ends runs of
workflows a then b, the other b then a) would deadlock, so every transaction that may add to
more than one row does it inside `rollups_in_key_order()`: the additions are held, merged per
row, and written when the block ends as one multi-row statement per table, tables in one fixed
order (runs, steps, metrics) and rows sorted by key. PostgreSQL takes a multi-row INSERT's rows
in the order of its VALUES, so every writer locks rows in the same global order.
"""

import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from engine.core.histograms import one_hot
from engine.models import RunRollup, RunStatus, StepRollup
from engine.models.prepared import prepared_cursor
from engine.models.rollups import duration_columns

RUN_OUTCOMES: dict[str, str] = {
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
    RunStatus.TIMED_OUT: "timed_out",
}
STEP_OUTCOMES = ("completed", "failed", "retrying")
MINUTE_DETAIL = timedelta(hours=2)
"""Rollup rows keep their minute this long; the timer loop then merges them into one row per
hour (engine.runtime.rollup_rebuild.compact_rollups)."""


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def upsert_sql(
    table: str,
    keys: Sequence[str],
    added: Sequence[str],
    others: Sequence[str] = (),
    extra: str = "",
    from_rows: str = "",
    rows: int = 1,
    computed: Mapping[str, str] | None = None,
) -> str:
    """INSERT keys, added and other columns; on conflict, add the `added` ones to the row's.
    `rows` rows of VALUES; with `from_rows`, one row per row of that relation (a CTE), and
    `computed` columns are SQL expressions over it instead of parameters."""
    columns = [*keys, *added, *others]
    placeholders = ", ".join(["%s"] * len(columns))
    source = "VALUES " + ", ".join([f"({placeholders})"] * rows)
    if from_rows:
        selected = ", ".join((computed or {}).get(column, "%s") for column in columns)
        source = f"SELECT {selected} FROM {from_rows}"  # noqa: S608 (a CTE's name)
    sets = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in added)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) {source} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}{extra}"
    )


RUN_ADDED = [
    "started",
    *RUN_OUTCOMES.values(),
    "duration_sum",
    *duration_columns("d"),
    "waited",
    "wait_sum",
    *duration_columns("w"),
]


RUN_KEYS = ["minute", "workflow", "shard"]
SHARDS = 8
"""A minute of one workflow (and of one step) is spread over this many rows, by run: an upsert
locks its row until its transaction commits, the flush included, so with one row two workers
took turns at every step, and concurrent starts and endings of one workflow at every commit.
Readers sum the rows; compaction merges them into one (engine.runtime.rollup_rebuild)."""


def shard_of(run_id: int) -> int:
    # SQLite has one writer at a time: nothing to spread.
    return run_id % SHARDS if connection.vendor == "postgresql" else 0


def shard_sql(run_id_column: str) -> str:
    """shard_of in PostgreSQL's SQL, for a run id known only inside a statement."""
    return f"mod({run_id_column}, {SHARDS})"


@functools.lru_cache(maxsize=64)
def run_upsert_sql(rows: int = 1) -> str:
    return upsert_sql(RunRollup._meta.db_table, RUN_KEYS, RUN_ADDED, rows=rows)


def run_values(
    *, workflow: str, minute: datetime, shard: int = 0, started: int = 0, ended: Any = None
) -> list[Any]:
    """The parameters of run_upsert_sql: `started` runs created, plus `ended` (a Run) if any."""
    outcome = RUN_OUTCOMES.get(str(ended.status)) if ended is not None else None
    duration = wait = None
    if outcome is not None:
        duration = _seconds(ended.started_at, ended.finished_at)
        wait = _seconds(ended.scheduled_for or ended.created_at, ended.started_at)
    counts = [1 if outcome == name else 0 for name in RUN_OUTCOMES.values()]
    return [
        minute,
        workflow,
        shard,
        started,
        *counts,
        duration or 0.0,
        *one_hot(duration if outcome is not None else None),
        0 if wait is None else 1,
        wait or 0.0,
        *one_hot(wait),
    ]


def add_run_started(run: Any, at: datetime) -> None:
    """Inside the transaction that creates the run (saved: its id picks its row)."""
    values = run_values(
        workflow=run.workflow, minute=minute_of(at), shard=shard_of(run.pk), started=1
    )
    add_to_rollup(RUNS, values)


def add_run_ended(run: Any, *, also_started: bool = False) -> None:
    """Inside the transaction that ends the run (its finished_at and status already set)."""
    values = run_values(
        workflow=run.workflow,
        minute=minute_of(run.finished_at),
        shard=shard_of(run.pk),
        started=1 if also_started else 0,
        ended=run,
    )
    add_to_rollup(RUNS, values)


STEP_ADDED = [*STEP_OUTCOMES, "duration_sum", *duration_columns("d")]
STEP_KEYS = ["minute", "workflow", "step", "shard"]


@functools.lru_cache(maxsize=64)
def step_upsert_sql(from_rows: str = "", rows: int = 1) -> str:
    table = StepRollup._meta.db_table
    # Example runs for the dashboard's links: the slowest attempt's run, the latest failure's.
    extra = (
        f", slowest_run = CASE WHEN excluded.slowest_seconds > {table}.slowest_seconds "
        f"THEN excluded.slowest_run ELSE {table}.slowest_run END"
        f", slowest_seconds = CASE WHEN excluded.slowest_seconds > {table}.slowest_seconds "
        f"THEN excluded.slowest_seconds ELSE {table}.slowest_seconds END"
        f", failed_run = COALESCE(excluded.failed_run, {table}.failed_run)"
    )
    return upsert_sql(
        table,
        STEP_KEYS,
        STEP_ADDED,
        ["slowest_run", "slowest_seconds", "failed_run"],
        extra,
        from_rows,
        rows,
    )


def step_values(
    *,
    run_id: int,
    workflow: str,
    step: str,
    status: str,
    started_at: datetime,
    finished_at: datetime,
) -> list[Any] | None:
    """The parameters of step_upsert_sql, or None for a status that is no attempt's end."""
    if status not in STEP_OUTCOMES:
        return None
    duration = _seconds(started_at, finished_at) or 0.0
    return [
        minute_of(finished_at),
        workflow,
        step[:200],
        shard_of(run_id),
        *[1 if status == name else 0 for name in STEP_OUTCOMES],
        duration,
        *one_hot(duration),
        run_id,
        duration,
        run_id if status != "completed" else None,
    ]


def add_step_values(values: list[Any]) -> None:
    """Inside the transaction that records the attempt's end (values from step_values)."""
    add_to_rollup(STEPS, values)


# --- one lock order for every writer (the module's docstring says why) -------------------------
@dataclass(frozen=True)
class RollupTable:
    """How the held additions to one rollup table are merged and written."""

    order: int
    """Tables are written in this order; each one's rows sorted by key."""
    keys: int
    """The first `keys` values of an addition are its row's key."""
    upsert: Callable[[int], str]
    """The statement that adds n rows (parameters: their values, row after row)."""
    merge: Callable[[list[Any], list[Any]], list[Any]]
    """One addition made of two to the same row (a statement may not touch a row twice)."""


def summed(keys: int) -> Callable[[list[Any], list[Any]], list[Any]]:
    """A merge that adds every value after the key."""

    def merge(held: list[Any], new: list[Any]) -> list[Any]:
        return [*held[:keys], *(a + b for a, b in zip(held[keys:], new[keys:], strict=True))]

    return merge


def _merge_steps(held: list[Any], new: list[Any]) -> list[Any]:
    merged = summed(len(STEP_KEYS))(held[:-3], new[:-3])
    slowest = new if new[-2] > held[-2] else held
    return [*merged, slowest[-3], slowest[-2], new[-1] or held[-1]]


RUNS = RollupTable(0, len(RUN_KEYS), run_upsert_sql, summed(len(RUN_KEYS)))
STEPS = RollupTable(1, len(STEP_KEYS), lambda rows: step_upsert_sql(rows=rows), _merge_steps)
ROWS_PER_STATEMENT = 200
"""Bounds a statement's parameters (a run row has about 50) well under every backend's limit."""


@dataclass
class _HeldAdditions:
    rows: dict[tuple[int, tuple[Any, ...]], tuple[RollupTable, list[Any]]] = field(
        default_factory=dict
    )

    def add(self, table: RollupTable, values: list[Any]) -> None:
        key = (table.order, tuple(values[: table.keys]))
        held = self.rows.get(key)
        self.rows[key] = (table, values if held is None else table.merge(held[1], values))

    def write(self) -> None:
        ordered = [self.rows[key] for key in sorted(self.rows)]
        start = 0
        while start < len(ordered):
            table = ordered[start][0]
            end = start
            while (
                end < len(ordered) and ordered[end][0] is table and end - start < ROWS_PER_STATEMENT
            ):
                end += 1
            _write(table, [values for _, values in ordered[start:end]])
            start = end


_held = threading.local()


@contextmanager
def rollups_in_key_order() -> Iterator[None]:
    """Hold the rollup additions made inside, and write them as the block ends, in the one
    global lock order. Nested blocks join the outermost; an exception discards what its block
    added (the transaction or savepoint they belonged to is rolled back)."""
    outer: _HeldAdditions | None = getattr(_held, "additions", None)
    if outer is not None:
        # A nested block may be a savepoint its caller rolls back and carries on after: what
        # it added goes with it.
        before = dict(outer.rows)
        try:
            yield
        except BaseException:
            outer.rows = before
            raise
        return
    additions = _held.additions = _HeldAdditions()
    try:
        yield
    finally:
        _held.additions = None
    additions.write()


def add_to_rollup(table: RollupTable, values: list[Any]) -> None:
    """Add to one rollup row: held until the enclosing rollups_in_key_order() ends, or at once
    (a transaction that adds to one row alone needs no order)."""
    additions: _HeldAdditions | None = getattr(_held, "additions", None)
    if additions is not None:
        additions.add(table, values)
    else:
        _write(table, [values])


def _write(table: RollupTable, rows: list[list[Any]]) -> None:
    with prepared_cursor() as cursor:
        cursor.execute(table.upsert(len(rows)), [value for row in rows for value in row])
