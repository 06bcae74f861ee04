"""The plain start and the plain ending of a run, each in one statement.

Most runs start the same way: no idempotency key, nothing scheduled, no cached output to
return and no workflow cap to queue behind. create_run does that in a transaction of five round
trips (BEGIN, the cap look-up, the run's insert, its rollup upsert, COMMIT); here it is one
statement committed on its own, which inserts the run only if no cap row exists and the
workflow's rate limit has room, and adds it to the run rollups from its RETURNING. When it
inserts nothing, create_run starts the run (or refuses it) as it always did.

Most runs end the same way: completed by their advancer, their last step held back to be
committed with the ending (engine.runtime.fence), nothing left open, no parent to tell and no
admission slot to pass on. finish_run does that in a transaction of seven round trips (BEGIN,
the last step, the run's update, the look for what is left open, two rollup upserts, COMMIT);
here it is one statement, committed on its own, whose CTEs do the same in the same lock order
(the run's row, its rollup row, the step's rollup row: engine.runtime.rollups):

    ended    UPDATE the run, only if this advancer holds it running and it leaves nothing open
    rolled   add the ending to the run rollups            (from ended: nothing ended, nothing)
    dropped  delete the run timeout's timer, for a run that has a deadline
                                     (after ended; one the timer loop is firing is skipped:
                                      engine.runtime.run_timers)
    inserted the held step's record                       (from rolled)
    counted  add the step's attempt to the step rollups   (from inserted)

Either all of it happens or none of it does. When it finds nothing to end (the lease was lost,
the run was cancelled or paused meanwhile, or it leaves a timer, wait, task or child open) the
caller ends the run the long way, which tells those cases apart and closes what is open.

A run with a run timeout arms it when it first starts: its deadline on the run's row and a
RUN_TIMEOUT timer for the timer loop, in one statement too (begin_deadline_at_once) instead of
a look for the timer and a transaction of four round trips.
"""

import functools
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection
from django.utils import timezone

from engine.core.values import JSON
from engine.messaging.signals import run_changed, send_on_commit
from engine.models import Run, RunRollup, RunStatus, Timer, TimerKind, WorkflowCap
from engine.models.prepared import params_of, prepared_cursor
from engine.models.row_checks import on_the_row
from engine.resilience.priorities import ADMITTED
from engine.runtime.fence import FencedWriter, commits_alone, insert_head, insert_values
from engine.runtime.left_open import left_open_query
from engine.runtime.limits import under_rate_condition
from engine.runtime.output_cache import remember_output
from engine.runtime.rollups import (
    RUN_ADDED,
    RUN_KEYS,
    minute_of,
    run_values,
    shard_of,
    shard_sql,
    step_upsert_sql,
    upsert_sql,
)
from engine.runtime.run_timers import drop_run_timeout_sql


def insert_started_at_once(run: Run, *, rated: bool) -> bool:
    """Insert `run` (unsaved, pending) and count it started, in one statement, unless its
    workflow has a cap row or (`rated`) has reached its rate limit. Sets run.pk; False when
    it inserted nothing."""
    if not commits_alone():
        return False
    rate = under_rate_condition(run.workflow, run.created_at) if rated else None
    values = run_values(workflow=run.workflow, minute=minute_of(run.created_at), started=1)
    del values[RUN_KEYS.index("shard")]  # the new id's, computed in the statement
    params = [
        *params_of(run, _run_columns()),
        run.workflow,
        *(rate[1] if rate else []),
        *values,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_start_sql(rate[0] if rate else ""), params)
        row = cursor.fetchone()
    if row is None:
        return False
    run.pk = row[0]
    run._state.adding, run._state.db = False, connection.alias
    return True


@functools.cache
def _run_columns() -> list[Any]:
    return [field for field in Run._meta.concrete_fields if not field.primary_key]


@functools.cache
def _start_sql(under_rate: str) -> str:
    # Table and column names come from the models; every value is a bound parameter.
    fields = _run_columns()
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    uncapped = f"NOT EXISTS (SELECT 1 FROM {WorkflowCap._meta.db_table} WHERE workflow = %s)"  # noqa: S608
    condition = f"{uncapped} AND {under_rate}" if under_rate else uncapped
    rolled = upsert_sql(
        RunRollup._meta.db_table,
        RUN_KEYS,
        RUN_ADDED,
        from_rows="created",
        computed={"shard": shard_sql("created.id")},
    )
    return (
        f"WITH created AS (INSERT INTO {Run._meta.db_table} ({columns}) "  # noqa: S608
        f"SELECT {placeholders} WHERE {condition} RETURNING id), "
        f"rolled AS ({rolled}) SELECT id FROM created"
    )


def end_completed_at_once(run: Run, owner: str, writer: FencedWriter, output: JSON) -> bool:
    """End `run` completed with `output` in one statement, if it ends plainly (the module's
    docstring). False when it did nothing: the caller ends the run through finish_run."""
    held = writer.held_step()
    if (
        not commits_alone()  # inside a transaction it would save nothing
        or run.parent_id is not None
        or run.admission == ADMITTED
        or (held is not None and held[2] is not None)  # the step reported progress
    ):
        return False
    finished_at = timezone.now()
    # A run with a deadline has a RUN_TIMEOUT timer to close: the statement deletes it.
    has_deadline = run.deadline_at is not None
    left_open_sql, left_open_params = left_open_query(run.pk, besides_run_timeout=has_deadline)
    ending = SimpleNamespace(
        status=RunStatus.COMPLETED,
        started_at=run.started_at,
        finished_at=finished_at,
        scheduled_for=run.scheduled_for,
        created_at=run.created_at,
    )
    params: list[Any] = [
        RunStatus.COMPLETED.value,
        Run._meta.get_field("output").get_db_prep_save(output, connection),
        finished_at,
        run.pk,
        owner,
        RunStatus.RUNNING.value,
        *left_open_params,
        *run_values(
            workflow=run.workflow,
            minute=minute_of(finished_at),
            shard=shard_of(run.pk),
            ended=ending,
        ),
    ]
    if has_deadline:
        params += [run.pk, TimerKind.RUN_TIMEOUT.value]
    step_rollup = None
    if held is not None:
        record, step_rollup, _ = held
        params += [*insert_values(record), *(step_rollup or [])]
    sql = _ending_sql(left_open_sql, held is not None, step_rollup is not None, has_deadline)
    try:
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            ended = cursor.fetchone() is not None
    except IntegrityError:
        # Another advancer journaled the last step's position first: the long way stops
        # there, as a step written alone does (engine.runtime.fence).
        return False
    if not ended:
        return False
    writer.held_step_committed()
    run.status, run.output, run.error = RunStatus.COMPLETED, output, None
    run.finished_at, run.lease_owner, run.lease_until = finished_at, "", None
    remember_output(run)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return True


@functools.cache
def _ending_sql(
    left_open_sql: str, with_step: bool, with_step_rollup: bool, with_deadline: bool = False
) -> str:
    # Table and column names come from the models; every value is a bound parameter.
    table = Run._meta.db_table
    nothing_open = (
        "NOT (SELECT open_timers OR open_waits OR open_tasks OR open_children "  # noqa: S608
        f"FROM ({left_open_sql}) AS left_open)"
    )
    ctes = [
        f"ended AS (UPDATE {table} SET status = %s, output = %s, error = NULL, "  # noqa: S608
        "finished_at = %s, stopped_at = NULL, lease_owner = '', lease_until = NULL, "
        f"wake_requested = false WHERE id = %s AND {on_the_row('lease_owner = %s AND status = %s')}"
        f" AND {nothing_open} RETURNING 1)",
        f"rolled AS ({upsert_sql(RunRollup._meta.db_table, RUN_KEYS, RUN_ADDED, from_rows='ended')}"
        " RETURNING 1)",
    ]
    # The chain's last link says whether it all happened; `dropped` is a branch off it (a run
    # may end with its timer skipped, or already gone).
    last = "rolled"
    if with_deadline:
        ctes.append(f"dropped AS ({drop_run_timeout_sql('ended')})")
    if with_step:
        ctes.append(f"inserted AS ({insert_head()} FROM rolled RETURNING 1)")
        last = "inserted"
    if with_step_rollup:
        ctes.append(f"counted AS ({step_upsert_sql('inserted')} RETURNING 1)")
        last = "counted"
    return f"WITH {', '.join(ctes)} SELECT 1 FROM {last}"  # noqa: S608


def begin_deadline_at_once(run: Run, timeout_seconds: float) -> bool:
    """Arm the run timeout of `run`, which has just started, in one statement committed on its
    own: its deadline on the row and a RUN_TIMEOUT timer, unless it has either already. False
    when it cannot be one statement (the caller arms it in a transaction)."""
    if not commits_alone():
        return False
    deadline = timezone.now() + timedelta(seconds=timeout_seconds)
    kind = TimerKind.RUN_TIMEOUT.value
    with prepared_cursor() as cursor:
        cursor.execute(_deadline_sql(), [deadline, run.pk, run.pk, kind, kind, deadline])
        armed = cursor.fetchone() is not None
    if armed:
        run.deadline_at = deadline
    return True


@functools.cache
def _deadline_sql() -> str:
    # Table and column names come from the models; every value is a bound parameter. The
    # UPDATE takes the run's row lock first, so two advancers cannot both arm it.
    runs, timers = Run._meta.db_table, Timer._meta.db_table
    no_timer = f"NOT EXISTS (SELECT 1 FROM {timers} WHERE run_id = %s AND kind = %s)"  # noqa: S608
    return (
        f"WITH armed AS (UPDATE {runs} SET deadline_at = %s "  # noqa: S608
        f"WHERE id = %s AND {on_the_row(f'deadline_at IS NULL AND {no_timer}')} RETURNING id) "
        f"INSERT INTO {timers} (run_id, kind, due_at) SELECT id, %s, %s FROM armed RETURNING 1"
    )
