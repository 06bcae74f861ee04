"""A run with a run timeout arms it in one statement when it first starts, and its plain ending
deletes the timer in the ending's own statement (engine.runtime.at_once). Before, it looked for
the timer, armed it in a transaction, and always ended the long way: about ten round trips more
than the same run without a timeout.

Whoever ends or cancels a run skips a timer the timer loop has locked (it is firing it and
deletes it itself) instead of waiting for it, which could deadlock: the loop locks the timer,
then the run (engine.runtime.run_timers).

Advanced as a worker would (engine.tasks.advance_run), outside any transaction, against real
PostgreSQL; the timer loop's lock is taken on a second connection.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import Run, RunRollup, RunStatus, StepRecord, StepRollup, Timer, TimerKind
from engine.runtime.at_once import begin_deadline_at_once
from engine.runtime.runs import cancel_run, start_run
from engine.runtime.sweepers import fire_due_timers
from engine.tasks import advance_run
from tests.connections import second_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]

STEPS = 3
ARMING = "WITH armed AS (UPDATE engine_run SET deadline_at"
AT_ONCE_END = "WITH ended AS (UPDATE engine_run"


def advanced(workflow: str) -> tuple[Run, list[str]]:
    run = start_run(workflow, {"steps": STEPS})
    with CaptureQueriesContext(connection) as queries:
        advance_run(run.pk)
    run.refresh_from_db()
    return run, [query["sql"] for query in queries]


def is_transaction_control(sql: str) -> bool:
    return sql.split(maxsplit=1)[0].upper() in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}


def test_a_run_timeout_costs_one_statement_and_no_transaction() -> None:
    plain, plain_statements = advanced("test-no-op-steps")
    timed, timed_statements = advanced("test-no-op-steps-in-time")
    assert (plain.status, timed.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED)
    assert len(timed_statements) == len(plain_statements) + 1, "\n".join(
        sql[:100] for sql in timed_statements
    )
    assert not [sql for sql in timed_statements if is_transaction_control(sql)]
    arming = [sql for sql in timed_statements if sql.startswith(ARMING)]
    assert len(arming) == 1
    ending = timed_statements[-1]
    assert ending.startswith(AT_ONCE_END) and "DELETE FROM engine_timer" in ending
    # The world: the deadline counted from the start, the timer gone, everything counted.
    assert timed.deadline_at is not None and timed.started_at is not None
    assert timed.deadline_at - timed.started_at == pytest.approx(
        timedelta(hours=1), abs=timedelta(seconds=1)
    )
    assert not Timer.objects.filter(run=timed).exists()
    assert StepRecord.objects.filter(run=timed, status="completed").count() == STEPS
    counts = RunRollup.objects.filter(workflow="test-no-op-steps-in-time").aggregate(
        started=Sum("started"), completed=Sum("completed")
    )
    assert counts == {"started": 1, "completed": 1}
    steps = StepRollup.objects.filter(workflow="test-no-op-steps-in-time")
    assert steps.aggregate(n=Sum("completed"))["n"] == STEPS


def test_arming_again_changes_nothing() -> None:
    run = start_run("test-no-op-steps-in-time", {"steps": 1})
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now())
    assert begin_deadline_at_once(run, 60)
    first = Run.objects.get(pk=run.pk).deadline_at
    assert first is not None and run.deadline_at == first
    run.deadline_at = None
    assert begin_deadline_at_once(run, 3600)
    assert run.deadline_at is None, "not armed twice"
    assert Run.objects.get(pk=run.pk).deadline_at == first
    timers = Timer.objects.filter(run=run)
    assert list(timers.values_list("kind", "due_at")) == [(TimerKind.RUN_TIMEOUT, first)]


@contextmanager
def timer_loop_holding(run: Run) -> Iterator[None]:
    """The run's timers locked as the timer loop locks those it fires, until leaving; this
    test's own statements give up on a lock after two seconds instead of waiting."""
    with second_connection() as loop:
        locked = loop.execute(
            "SELECT id FROM engine_timer WHERE run_id = %s FOR UPDATE", [run.pk]
        ).fetchall()
        assert locked, "the run has a timer to hold"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
            loop.rollback()


def test_an_ending_skips_a_timer_the_timer_loop_is_firing() -> None:
    run = start_run("test-no-op-steps-in-time", {"steps": STEPS})
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now())
    assert begin_deadline_at_once(run, 3600)
    began = time.monotonic()
    with timer_loop_holding(run):
        with CaptureQueriesContext(connection) as queries:
            advance_run(run.pk)
        waited = time.monotonic() - began
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert queries.captured_queries[-1]["sql"].startswith(AT_ONCE_END)
    assert waited < 1.5, "the ending waited for the timer loop's lock"
    # The loop let go without deleting it (as if it crashed): when it fires, nothing happens.
    Timer.objects.filter(run=run).update(due_at=timezone.now() - timedelta(seconds=1))
    assert fire_due_timers() == 1
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.COMPLETED, None)
    assert not Timer.objects.filter(run=run).exists()


def test_a_cancel_skips_a_timer_the_timer_loop_is_firing() -> None:
    run = start_run("test-timeout", {})
    advance_run(run.pk)  # arms its timeout, then sleeps: a wake timer too
    kinds = sorted(Timer.objects.filter(run=run).values_list("kind", flat=True))
    assert kinds == [TimerKind.RUN_TIMEOUT, TimerKind.WAKE]
    began = time.monotonic()
    with timer_loop_holding(run):
        cancel_run(run.pk, compensate=False)  # finish_run closes what it left open
        waited = time.monotonic() - began
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert waited < 1.5, "the cancel waited for the timer loop's locks"
    # Both were skipped, left to a loop that let go of them: firing them changes nothing.
    assert Timer.objects.filter(run=run).count() == 2
    Timer.objects.filter(run=run).update(due_at=timezone.now() - timedelta(seconds=1))
    assert fire_due_timers() == 2
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert not Timer.objects.filter(run=run).exists()


def test_a_cancel_met_at_a_sleep_skips_the_wake_the_timer_loop_is_firing() -> None:
    run = start_run("test-sleep", {"seconds": 60})
    advance_run(run.pk)  # sleeps: a wake timer at the sleep's position
    assert Timer.objects.filter(run=run, kind=TimerKind.WAKE).count() == 1
    cancel_run(run.pk)  # cancelling: its next advance meets the cancel at the sleep
    began = time.monotonic()
    with timer_loop_holding(run):
        advance_run(run.pk)
        waited = time.monotonic() - began
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED, run.error
    assert waited < 1.5, "the cancel at the sleep waited for the timer loop's lock"
    sleep = StepRecord.objects.filter(run=run, seq=0).order_by("-attempt").first()
    assert sleep is not None and sleep.status == "cancelled"
    # Left to a loop that let go of it: firing it wakes nothing and changes nothing.
    Timer.objects.filter(run=run).update(due_at=timezone.now() - timedelta(seconds=1))
    assert fire_due_timers() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert StepRecord.objects.get(pk=sleep.pk).status == "cancelled"
