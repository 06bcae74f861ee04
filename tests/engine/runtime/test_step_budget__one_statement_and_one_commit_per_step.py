"""A journaled step costs one SQL statement, committed on its own, and no broker message; a
plain run adds one statement to take its lease and one to end it, which also commits its last
step; a plain start is one statement and one message. No transaction block anywhere.

The statements are counted through the task a worker runs (engine.tasks.advance_run) against
real PostgreSQL, for the same no-op workflow at two lengths: what a step adds is the difference,
so the budget does not move when the per-run work around the steps does, and that work has a
budget of its own. A second statement per step (a lock, a read of what the run holds, a rollup
written apart) or a transaction block around each step fails here.
"""

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from engine.models import Run, RunRollup, RunStatus, StepRecord
from engine.runtime.fence import UNFLUSHED_COMMIT
from engine.runtime.runs import start_run
from engine.tasks import advance_run
from tests.queues import broker_messages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # A worker an earlier test left running would take the run before this process counts.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

SHORT, LONG = 2, 12
PER_RUN_STATEMENTS = 1
"""Besides the statements that write steps: taking the lease, which reads the run's row and
whether it has a journal (a run starting has none to read). The ending's one statement writes
the last step too (engine.runtime.at_once)."""


def advance_counting(steps: int, *, progress: bool = False) -> tuple[list[str], list[str]]:
    """Start a run of `steps` no-op steps, then advance it as a worker would: the SQL the
    advance ran, and the tasks it sent."""
    run = start_run("test-no-op-steps", {"steps": steps, "progress": progress})
    with broker_messages() as sent, CaptureQueriesContext(connection) as queries:
        advance_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert StepRecord.objects.filter(run=run, status="completed").count() == steps
    if progress:
        assert run.progress == {"current": steps, "total": steps, "message": None}
    return [query["sql"] for query in queries], sent


def is_transaction_control(sql: str) -> bool:
    return sql.split(maxsplit=1)[0].upper() in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}


def test_each_step_adds_one_statement_and_no_transaction_block() -> None:
    short, _ = advance_counting(SHORT)
    long, sent = advance_counting(LONG)
    assert len(long) - len(short) == LONG - SHORT, "statements per step"
    # The statements a step adds commit on their own (autocommit): no BEGIN … COMMIT per step.
    controls = [sql for sql in long if is_transaction_control(sql)]
    assert controls == [sql for sql in short if is_transaction_control(sql)]
    step_writes = [sql for sql in long if "INSERT INTO engine_steprecord" in sql]
    assert len(step_writes) == LONG
    # A step's record and its rollup are one statement, and no step waits on the broker.
    assert all("engine_steprollup" in sql for sql in step_writes[:-1])
    assert sent == []
    # The last step is written by the ending's statement, with its rollup row, after the
    # run's row and its rollup row (the rollups' key order): one commit fewer.
    ending = step_writes[-1]
    assert ending == long[-1]
    assert ending.startswith("WITH ended AS (UPDATE engine_run SET status")
    assert ending.index("engine_runrollup") < ending.index("INSERT INTO engine_steprecord")
    assert ending.index("INSERT INTO engine_steprecord") < ending.index("engine_steprollup")


def test_a_step_reporting_progress_stores_it_in_the_same_statement() -> None:
    short, _ = advance_counting(SHORT, progress=True)
    long, _ = advance_counting(LONG, progress=True)
    assert len(long) - len(short) == LONG - SHORT, "statements per step"
    # Each step's statement carries the progress reported before it (the last one is
    # written with the run's end).
    assert sum("UPDATE engine_run SET progress" in sql for sql in long) == LONG - 1


def test_a_run_costs_a_fixed_handful_of_statements_around_its_steps() -> None:
    statements, _ = advance_counting(LONG)
    around = [sql for sql in statements if "INSERT INTO engine_steprecord" not in sql]
    assert len(around) <= PER_RUN_STATEMENTS, "\n".join(sql[:120] for sql in around)
    assert not [sql for sql in statements if is_transaction_control(sql)]
    # Taking the lease and reading the run are one statement.
    lease = [sql for sql in around if sql.startswith("UPDATE engine_run SET status = CASE")]
    assert len(lease) == 1
    # Committed on its own without waiting for the flush: the first step's commit flushes it.
    assert UNFLUSHED_COMMIT in lease[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",), "the setting outlived the lease's statement"
    assert not [
        sql
        for sql in around
        if sql.startswith('SELECT "engine_run"."id"') and "FOR UPDATE" not in sql
    ]


def test_starting_a_run_is_one_statement_and_one_message() -> None:
    with broker_messages() as sent, CaptureQueriesContext(connection) as queries:
        run = start_run("test-no-op-steps", {"steps": 1})
    statements = [query["sql"] for query in queries]
    # The run's row and its rollup row, only if no cap applies and the rate limit has room.
    assert len(statements) == 1, "\n".join(sql[:120] for sql in statements)
    assert statements[0].startswith("WITH created AS (INSERT INTO engine_run")
    assert "engine_runrollup" in statements[0] and "engine_workflowcap" in statements[0]
    assert sent == ["engine.advance_run"]
    assert Run.objects.get(pk=run.pk).status == RunStatus.PENDING
    assert RunRollup.objects.aggregate(started=Sum("started"))["started"] == 1
