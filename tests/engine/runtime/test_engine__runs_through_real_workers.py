"""Code workflows run durably through a real worker process, timer loop and PostgreSQL."""

import time

import pytest
from django.db import connection

from engine.inbound.events import deliver_event
from engine.models import Run, RunMetric, StepRecord, Timer
from engine.runtime.runs import RunStateError, cancel_run, retry_run, start_run
from tests.processes import RunningProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table"),
]


def wait_for_status(run: Run, *statuses: str, timeout: float = 20) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.pk} is {run.status}, not {statuses}; error: {run.error}")


def effects(prefix: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, executions FROM test_side_effects WHERE key LIKE %s",
            [f"stepwise:{prefix}:%"],
        )
        return dict(cursor.fetchall())


def test_a_sequence_runs_inline_in_one_advance(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-sequence", {"steps": 5}), "completed")
    assert run.output == ["step-1", "step-2", "step-3", "step-4", "step-5"]
    steps = list(
        StepRecord.objects.filter(run=run).order_by("seq").values_list("name", "status", "attempt")
    )
    assert steps == [(f"step-{n}", "completed", 1) for n in range(1, 6)]
    assert len(effects(str(run.pk))) == 5
    assert run.progress == {"current": 5, "total": 5, "message": None}
    assert RunMetric.objects.get(run=run).value == 5


def test_a_sleeping_run_holds_nothing_and_wakes_on_its_timer(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    run = wait_for_status(start_run("test-sleep", {"seconds": 1}), "waiting")
    assert Timer.objects.filter(run=run).count() == 1
    assert run.lease_owner == ""
    run = wait_for_status(run, "completed")
    assert run.output == "after-sleep"
    assert not Timer.objects.filter(run=run).exists()
    sleep_record = StepRecord.objects.get(run=run, kind="sleep")
    assert sleep_record.status == "completed"


def test_an_event_wakes_the_waiting_run_once(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 7}), "waiting")
    deliver_event("Approval.decided", {"order_id": 8, "approved": False}, event_id="other")
    time.sleep(0.3)
    run.refresh_from_db()
    assert run.status == "waiting"  # another order's decision does not match
    first = deliver_event("Approval.decided", {"order_id": 7, "approved": True}, event_id="e7")
    again = deliver_event("Approval.decided", {"order_id": 7, "approved": False}, event_id="e7")
    assert first.created and first.woken_runs == [run.pk]
    assert not again.created and again.woken_runs == []
    run = wait_for_status(run, "completed")
    assert run.output == {"approved": True, "event": "e7"}


def test_an_event_that_arrives_before_the_wait_is_not_lost(
    celery_worker: RunningProcess,
) -> None:
    run = start_run("test-wait", {"order_id": 9}, trigger="api")
    deliver_event("Approval.decided", {"order_id": 9, "approved": True}, event_id="early")
    run = wait_for_status(run, "completed")
    assert run.output["event"] == "early"


def test_a_wait_timeout_is_caught_by_the_workflow(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 10, "timeout": 0.5}), "waiting")
    # The first wait times out, the workflow reminds and waits again.
    deadline = time.monotonic() + 10
    while not effects(str(run.pk)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(effects(str(run.pk)).values()) == [1]
    deliver_event("Approval.decided", {"order_id": 10, "approved": True}, event_id="late")
    run = wait_for_status(run, "completed", "failed")
    assert run.status == "completed", run.error


def test_retries_are_journaled_per_attempt(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    run = wait_for_status(start_run("test-retry", {"fail_times": 2}), "completed")
    attempts = list(
        StepRecord.objects.filter(run=run, kind="step")
        .order_by("attempt")
        .values_list("attempt", "status")
    )
    assert attempts == [(1, "retrying"), (2, "retrying"), (3, "completed")]
    failed = wait_for_status(start_run("test-retry", {"fail_times": 5}), "failed")
    assert failed.error["type"] == "engine.core.errors.StepFailed"
    assert "after 3 attempt(s)" in failed.error["message"]


def test_parallel_steps_fan_out_with_a_limit(celery_worker: RunningProcess) -> None:
    numbers = list(range(1, 9))
    run = wait_for_status(
        start_run("test-parallel", {"numbers": numbers, "concurrency": 3}), "completed"
    )
    assert run.output == sum(n * n for n in numbers)
    branches = StepRecord.objects.filter(run=run, branch__gt=0)
    assert sorted(branches.values_list("status", flat=True)) == ["completed"] * 8
    assert len(effects(str(run.pk))) == 8
    reported = RunMetric.objects.filter(run=run, name="squared").values_list("value", flat=True)
    assert sorted(reported) == [float(n * n) for n in numbers]


def test_a_child_workflow_result_returns_to_its_parent(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-parent", {"child_steps": 2}), "completed")
    child = Run.objects.get(parent=run)
    assert child.status == "completed"
    assert run.output == {"child": ["step-1", "step-2"]}


def test_compensation_releases_the_reservation(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-saga", {"items": ["a"], "amount": 500}), "completed")
    assert run.output == "released"
    names = list(StepRecord.objects.filter(run=run).order_by("seq").values_list("name", flat=True))
    assert names == ["reserve", "charge", "release"]


def test_cancel_a_waiting_run_and_its_children(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 11}), "waiting")
    cancel_run(run.pk, reason="operator said so")
    run = wait_for_status(run, "cancelled")
    assert run.error == {"type": "Cancelled", "message": "operator said so"}
    assert deliver_event("Approval.decided", {"order_id": 11, "approved": True}).woken_runs == []
    with pytest.raises(RunStateError, match="already ended cancelled"):
        cancel_run(run.pk)


def test_retry_a_failed_run_from_its_failed_step(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-retry", {"fail_times": 3}), "failed")
    # The step has now run 3 times; the 4th attempt, after the retry, succeeds.
    retried = wait_for_status(retry_run(run.pk), "completed")
    assert retried.output == "ok"
    attempts = list(
        StepRecord.objects.filter(run=run)
        .order_by("superseded", "attempt")
        .values_list("superseded", "status")
    )
    assert attempts[0] == (False, "completed")
    assert [status for superseded, status in attempts if superseded] == [
        "retrying",
        "retrying",
        "failed",
    ]


def test_the_same_idempotency_key_returns_the_same_run(celery_worker: RunningProcess) -> None:
    first = start_run("test-sequence", {"steps": 1}, idempotency_key="order-1")
    second = start_run("test-sequence", {"steps": 1}, idempotency_key="order-1")
    assert first.pk == second.pk
    assert Run.objects.filter(idempotency_key="order-1").count() == 1


def test_cancelling_a_running_run_stops_it_between_steps(celery_worker: RunningProcess) -> None:
    run = start_run("test-sequence", {"steps": 20, "pause": 0.1})
    deadline = time.monotonic() + 20
    while StepRecord.objects.filter(run=run).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    cancel_run(run.pk, reason="stop now")
    time.sleep(0.5)  # the step in flight finishes; its journal write is refused
    written = StepRecord.objects.filter(run=run).count()
    time.sleep(0.5)
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert 2 <= written < 20
    assert StepRecord.objects.filter(run=run).count() == written


def test_duplicate_advance_messages_run_each_step_once(celery_worker: RunningProcess) -> None:
    from engine.tasks import advance_run

    run = start_run("test-sequence", {"steps": 6, "pause": 0.02})
    for _ in range(5):  # redelivered or re-sent messages for the same run
        advance_run.delay(run.pk)
    run = wait_for_status(run, "completed")
    assert list(effects(str(run.pk)).values()) == [1] * 6
    assert StepRecord.objects.filter(run=run).count() == 6
