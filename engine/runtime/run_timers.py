"""A run's timers closed by whoever ends or cancels the run, without waiting on the timer loop.

The timer loop locks the timers that are due, then each one's run (engine.runtime.sweepers).
Whoever ends or cancels a run holds the run's row first and deletes its timers after. Waiting
there for a timer's row lock could deadlock with the loop, and PostgreSQL would abort one side
after a second. A timer whose row is locked is one the loop is firing, and the loop deletes it
itself, so these statements skip it (SKIP LOCKED). Once this transaction commits, the loop gets
the run's row and finds the run ended or cancelling, so the timer does nothing more.
"""

import functools

from django.db import connection

from engine.models import Timer, TimerKind
from engine.models.prepared import prepared_cursor


def drop_timers(run_id: int, kind: TimerKind | None = None, seq: int | None = None) -> int:
    """Inside the transaction that holds the run's row: delete its timers (of `kind`, at
    journal position `seq`, if given) that the timer loop is not firing right now. Returns how
    many it deleted."""
    params: list[object] = [run_id]
    if kind is not None:
        params.append(kind.value)
    if seq is not None:
        params.append(seq)
    with prepared_cursor() as cursor:
        cursor.execute(_drop_sql(connection.vendor, kind is not None, seq is not None), params)
        return int(cursor.rowcount)


@functools.cache
def _drop_sql(vendor: str, of_one_kind: bool, at_one_position: bool) -> str:
    # Table and column names come from the model; every value is a bound parameter. SQLite
    # has no row locks: its writers take turns, so there is nothing to skip.
    table = Timer._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    kind = " AND kind = %s" if of_one_kind else ""
    position = " AND seq = %s" if at_one_position else ""
    return (
        f"DELETE FROM {table} WHERE id IN "  # noqa: S608
        f"(SELECT id FROM {table} WHERE run_id = %s{kind}{position}{lock})"
    )


def drop_run_timeout_sql(after: str) -> str:
    """A data-modifying CTE's body for PostgreSQL's one-statement ending
    (engine.runtime.at_once): delete the run's RUN_TIMEOUT timer once CTE `after` returned a
    row, skipping it if the timer loop holds it. Parameters: the run's id, the timer kind."""
    table = Timer._meta.db_table
    return (
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "  # noqa: S608
        f"WHERE run_id = %s AND kind = %s AND EXISTS (SELECT 1 FROM {after}) "
        "FOR UPDATE SKIP LOCKED) RETURNING 1"
    )
