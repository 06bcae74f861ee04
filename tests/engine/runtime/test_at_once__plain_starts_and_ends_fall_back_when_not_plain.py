"""A plain start and a plain end are one statement each (engine.runtime.at_once); a start over
the rate limit or behind a workflow cap, and an end that leaves something open, do nothing in
that statement and go the long way, with the same outcome and the same rollup counts as
before.

Started and advanced as the API and a worker would (start_run, engine.tasks.advance_run),
outside any transaction, against real PostgreSQL.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import (
    Run,
    RunRollup,
    RunStatus,
    StepRecord,
    StepRollup,
    Timer,
    TimerKind,
    WorkflowCap,
)
from engine.resilience.priorities import ADMITTED, HELD
from engine.runtime.limits import REFUSED
from engine.runtime.runs import start_run
from engine.tasks import advance_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]

AT_ONCE_START = "WITH created AS (INSERT INTO engine_run"
AT_ONCE_END = "WITH ended AS (UPDATE engine_run"


def started_capturing(workflow: str, input: Any) -> tuple[Run, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        run = start_run(workflow, input)
    return run, [query["sql"] for query in queries]


def run_counts(workflow: str) -> dict[str, Any]:
    return RunRollup.objects.filter(workflow=workflow).aggregate(
        started=Sum("started"),
        completed=Sum("completed"),
        failed=Sum("failed"),
        waited=Sum("waited"),
        duration=Sum("duration_sum"),
    )


def test_a_plain_run_is_counted_as_the_long_way_counts_it() -> None:
    run, statements = started_capturing("test-no-op-steps", {"steps": 3})
    assert [sql[: len(AT_ONCE_START)] for sql in statements] == [AT_ONCE_START]
    assert Run.objects.get(pk=run.pk).status == RunStatus.PENDING
    with CaptureQueriesContext(connection) as queries:
        advance_run(run.pk)
    assert queries.captured_queries[-1]["sql"].startswith(AT_ONCE_END)
    run.refresh_from_db()
    assert (run.status, run.output, run.lease_owner, run.lease_until) == ("completed", 3, "", None)
    assert run.finished_at is not None and run.started_at is not None
    assert StepRecord.objects.filter(run=run, status="completed").count() == 3
    counts = run_counts("test-no-op-steps")
    assert (counts["started"], counts["completed"], counts["failed"], counts["waited"]) == (
        1,
        1,
        0,
        1,
    )
    assert counts["duration"] == pytest.approx((run.finished_at - run.started_at).total_seconds())
    # Every step counted once, the last one (written by the ending's statement) too.
    steps = StepRollup.objects.filter(workflow="test-no-op-steps").aggregate(n=Sum("completed"))
    assert steps["n"] == 3


def test_a_start_over_the_rate_limit_is_refused_the_long_way(settings: Any) -> None:
    settings.STEPWISE_MAX_RUNS_PER_MINUTE = 2
    for _ in range(2):
        run, statements = started_capturing("test-sleep", {"seconds": 1})
        assert run.status == RunStatus.PENDING
        assert len(statements) == 1 and statements[0].startswith(AT_ONCE_START)
    refused, statements = started_capturing("test-sleep", {"seconds": 1})
    # The statement inserted nothing; create_run then refused the run, in a transaction.
    assert statements[0].startswith(AT_ONCE_START) and "BEGIN" in statements
    assert refused.status == RunStatus.FAILED
    assert refused.error is not None and refused.error["type"] == REFUSED
    assert Run.objects.filter(workflow="test-sleep").count() == 3
    counts = run_counts("test-sleep")
    assert (counts["started"], counts["failed"]) == (3, 1)
    # The refusal does not fill the window of another workflow.
    other, statements = started_capturing("test-no-op-steps", {"steps": 1})
    assert other.status == RunStatus.PENDING and len(statements) == 1


def test_a_start_behind_a_cap_is_admitted_or_held_the_long_way() -> None:
    WorkflowCap.objects.create(workflow="test-sleep", max_active=1)
    first, statements = started_capturing("test-sleep", {"seconds": 60})
    assert statements[0].startswith(AT_ONCE_START) and "BEGIN" in statements
    second, _ = started_capturing("test-sleep", {"seconds": 60})
    admissions = dict(Run.objects.values_list("pk", "admission"))
    assert admissions == {first.pk: ADMITTED, second.pk: HELD}
    assert Run.objects.get(pk=second.pk).dispatched_at is None
    assert run_counts("test-sleep")["started"] == 2


def test_an_end_that_leaves_a_timer_open_closes_it_the_long_way() -> None:
    run = start_run("test-no-op-steps", {"steps": 2})
    # A timer still open when the run completes (a run timeout's own timer is closed by the
    # ending's statement: test_run_timeout__armed_and_closed_in_the_run_s_own_statements).
    Timer.objects.create(run=run, kind=TimerKind.WAKE, due_at=timezone.now() + timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        advance_run(run.pk)
    statements = [query["sql"] for query in queries]
    tried = next(index for index, sql in enumerate(statements) if sql.startswith(AT_ONCE_END))
    assert "BEGIN" in statements[tried:], "the long way, in a transaction"
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.output == 2
    assert not Timer.objects.filter(run=run).exists()
    assert StepRecord.objects.filter(run=run, status="completed").count() == 2
    counts = run_counts("test-no-op-steps")
    assert (counts["started"], counts["completed"]) == (1, 1)
    steps = StepRollup.objects.filter(workflow="test-no-op-steps").aggregate(n=Sum("completed"))
    assert steps["n"] == 2


def test_an_end_whose_last_step_another_advancer_journaled_stops_without_writing() -> None:
    run = start_run("test-last-step-journaled-twice", {})
    advance_run(run.pk)  # raises nothing: a duplicate position stops the advancer quietly
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING, run.error
    last = StepRecord.objects.get(run=run, seq=1)
    assert last.output == "last by the other advancer"
    assert not RunRollup.objects.filter(workflow=run.workflow, completed__gt=0).exists()
    # The first step was counted when it was written; the duplicate was not.
    counted = StepRollup.objects.filter(workflow=run.workflow).aggregate(n=Sum("completed"))
    assert counted["n"] == 1
