"""STEPWISE_ASYNC_STEP_COMMITS (off by default) lets a step's own commit skip the journal flush;
the run's ending stays an ordinary commit, and a run whose last steps a PostgreSQL crash lost is
sent again by the lost-work sweeper and runs them again.

Advanced as a worker would (engine.tasks.advance_run) against real PostgreSQL. The crash is
stood in for by a state it may leave: the run's later step records gone, the run still running
under a lease that has lapsed (an earlier commit flushed the lease; had it not, the run would be
pending with its message gone, which the same sweeper sends again).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord
from engine.runtime.fence import UNFLUSHED_COMMIT
from engine.runtime.runs import start_run
from engine.runtime.sweepers import redispatch_lost_work
from engine.tasks import advance_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]

STEPS = 6


def advance_capturing() -> tuple[Run, list[str]]:
    run = start_run("test-no-op-steps", {"steps": STEPS})
    with CaptureQueriesContext(connection) as queries:
        advance_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    return run, [query["sql"] for query in queries]


def test_off_by_default_every_step_commit_waits_for_the_disk() -> None:
    _, statements = advance_capturing()
    writes = [sql for sql in statements if "INSERT INTO engine_steprecord" in sql]
    assert len(writes) == STEPS
    assert not [sql for sql in writes if "synchronous_commit" in sql]


@override_settings(STEPWISE_ASYNC_STEP_COMMITS=True)
def test_on_a_step_committed_alone_skips_the_flush_and_the_ending_does_not() -> None:
    run, statements = advance_capturing()
    writes = [sql for sql in statements if "INSERT INTO engine_steprecord" in sql]
    assert len(writes) == STEPS
    # Each step but the last commits on its own, without waiting for the flush.
    assert all(UNFLUSHED_COMMIT in sql for sql in writes[:-1])
    # The last one is written by the ending's statement, an ordinary commit.
    assert UNFLUSHED_COMMIT not in writes[-1]
    assert "UPDATE engine_run SET status" in writes[-1]
    last = statements.index(writes[-1])
    assert not [sql for sql in statements[last:] if "synchronous_commit" in sql]
    assert StepRecord.objects.filter(run=run, status="completed").count() == STEPS
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",), "the setting outlived its statement"


@override_settings(STEPWISE_ASYNC_STEP_COMMITS=True)
def test_a_run_whose_last_steps_were_lost_is_sent_again_and_runs_them_again() -> None:
    run, _ = advance_capturing()
    kept = 3
    # What a PostgreSQL crash may leave: the steps after the third and the ending not flushed.
    kept_ids = list(
        StepRecord.objects.filter(run=run, seq__lt=kept)
        .order_by("seq")
        .values_list("pk", flat=True)
    )
    StepRecord.objects.filter(run=run, seq__gte=kept).delete()
    long_ago = timezone.now() - timedelta(minutes=5)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        output=None,
        finished_at=None,
        lease_owner="a worker that died with the server",
        lease_until=long_ago,
        dispatched_at=long_ago,
    )
    # A timer loop an earlier test left running may sweep it first: either way it is sent again.
    redispatch_lost_work()
    resent = Run.objects.get(pk=run.pk)
    assert resent.dispatched_at is not None and resent.dispatched_at > long_ago
    advance_run(run.pk)
    resent.refresh_from_db()
    assert resent.status == RunStatus.COMPLETED, resent.error
    assert resent.output == STEPS
    records = StepRecord.objects.filter(run=run, branch=0).order_by("seq")
    assert [record.seq for record in records] == list(range(STEPS))
    # The kept steps were replayed, not run again; only the lost ones are journaled anew.
    assert [record.pk for record in records[:kept]] == kept_ids
    assert all(record.pk > max(kept_ids) for record in records[kept:])
