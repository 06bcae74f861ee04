"""Operators' controls and the engine's time-based features, through real processes."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from engine.inbound.events import deliver_event
from engine.models import Run, Timer
from engine.runtime.debounce import debounce_start
from engine.runtime.output_cache import cached_output
from engine.runtime.runs import RunStateError, cancel_run, pause_run, resume_run, start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker", "timer_loop"),
]


def test_a_paused_run_keeps_its_event_and_finishes_when_resumed() -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 21}), "waiting")
    pause_run(run.pk)
    deliver_event("Approval.decided", {"order_id": 21, "approved": True}, event_id="paused")
    time.sleep(0.5)
    run.refresh_from_db()
    assert run.status == "paused"
    assert run.wake_requested
    with pytest.raises(RunStateError, match="cannot be paused"):
        pause_run(run.pk)
    resume_run(run.pk)
    assert wait_for_status(run, "completed").output == {"approved": True, "event": "paused"}


def test_a_run_past_its_timeout_ends_timed_out() -> None:
    run = wait_for_status(start_run("test-timeout"), "timed_out", timeout=15)
    assert run.error == {"type": "RunTimeout", "message": "the run passed its timeout"}
    assert run.deadline_at is not None
    assert not Timer.objects.filter(run=run).exists()


def test_a_run_started_later_waits_for_its_time_and_can_be_cancelled() -> None:
    later = start_run("test-sequence", {"steps": 1}, start_at=timezone.now() + timedelta(seconds=1))
    never = start_run("test-sequence", {"steps": 1}, start_at=timezone.now() + timedelta(hours=1))
    assert later.status == never.status == "scheduled"
    cancel_run(never.pk)
    assert wait_for_status(later, "completed").started_at >= later.scheduled_for
    never.refresh_from_db()
    assert never.status == "cancelled"
    assert not Timer.objects.filter(run=never).exists()


def test_debounce_runs_once_with_the_last_input() -> None:
    for steps in (1, 2, 3):
        debounce_start("test-sequence", "entity-9", {"steps": steps}, window=0.6)
        time.sleep(0.1)
    wait_until(
        lambda: Run.objects.filter(trigger="debounce").exists(),
        timeout=10,
        what="the debounced run",
    )
    time.sleep(0.5)
    runs = list(Run.objects.filter(trigger="debounce"))
    assert len(runs) == 1
    assert runs[0].input == {"steps": 3}
    assert "last of 3 calls" in runs[0].trigger_ref
    with pytest.raises(ValueError, match="window"):
        debounce_start("test-sequence", "entity-9", {}, window=0)


def test_a_cached_workflow_answers_the_same_input_at_once() -> None:
    first = wait_for_status(start_run("test-cached", {"n": 1}), "completed")
    # The output is cached once the run's completion has committed, a moment after it shows.
    wait_until(lambda: cached_output("test-cached", {"n": 1})[0], 10, "the output to be cached")
    second = start_run("test-cached", {"n": 1})
    assert second.status == "completed"
    assert second.output == first.output
    assert "cached result" in second.trigger_ref
    other = wait_for_status(start_run("test-cached", {"n": 2}), "completed")
    assert "cached" not in other.trigger_ref


def test_unknown_workflows_and_bad_events_are_refused_clearly(
    celery_worker: RunningProcess,
) -> None:
    from engine.inbound.events import EventInputError
    from engine.runtime.resolving import UnknownWorkflow

    with pytest.raises(UnknownWorkflow, match="workflow: no workflow called 'nope'"):
        start_run("nope")
    with pytest.raises(EventInputError, match="type: "):
        deliver_event("", {})
    with pytest.raises(EventInputError, match="payload: must be a JSON object"):
        deliver_event("X.y", ["not", "an", "object"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "lease_owner", "lease_until"),
    [
        ("pending", "", None),  # its "advance" message was lost (a broker restart)
        ("running", "dead-worker:1", timedelta(seconds=-30)),  # its advancer died
    ],
)
def test_the_timer_loop_recovers_a_run_whose_work_was_lost(
    status: str, lease_owner: str, lease_until: timedelta | None
) -> None:
    from engine.runtime.resolving import resolve

    now = timezone.now()
    run = Run.objects.create(
        workflow="test-sequence",
        version=resolve("test-sequence").version,
        input={"steps": 2},
        status=status,
        created_at=now - timedelta(hours=1),
        dispatched_at=now - timedelta(hours=1),
        lease_owner=lease_owner,
        lease_until=now + lease_until if lease_until else None,
    )
    assert wait_for_status(run, "completed").output == ["step-1", "step-2"]
