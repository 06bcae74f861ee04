"""Code workflows with a Saga on a real worker: every way a run resumes leaves the world as the
run says — a retry re-does what a compensation undid, cancel and a run timeout undo what was
done, a parent's retry retries its failed child, and a pause never repeats a step in flight."""

import time

import pytest

from engine.inbound.events import deliver_event
from engine.models import Run
from engine.runtime.runs import cancel_run, pause_run, resume_run, retry_run, start_run
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.saga_flows import holds, journal

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


def test_a_retried_saga_reserves_again_then_charges_once(worker_server: LocalServer) -> None:
    worker_server.route("POST", "/code-pay-1", Reply(500), Reply(200))
    order = {"hold": "code-hold-1", "charge_url": worker_server.url("/code-pay-1")}
    run = wait_for_status(start_run("saga-hold", order), "failed")
    assert holds("code-hold-1") == []

    run = wait_for_status(retry_run(run.pk), "completed")
    [hold] = holds("code-hold-1")
    assert hold.created_by_step is not None
    assert hold.created_by_step.endswith(":reserve:redo-1")
    assert len(worker_server.requests_to("/code-pay-1")) == 2
    assert journal(run) == [
        ("reserve", "completed", True),
        ("charge", "failed", True),
        ("release", "completed", True),
        ("reserve", "completed", False),
        ("charge", "completed", False),
    ]


def test_cancel_between_reserve_and_charge_releases_the_hold(worker_server: LocalServer) -> None:
    order = {"hold": "code-hold-2", "charge_url": worker_server.url("/code-pay-2"), "wait": True}
    run = wait_for_status(start_run("saga-hold", order), "waiting")
    assert len(holds("code-hold-2")) == 1

    assert cancel_run(run.pk, reason="out of stock").status in ("cancelling", "cancelled")
    run = wait_for_status(run, "cancelled")
    assert holds("code-hold-2") == []
    assert run.error == {"type": "Cancelled", "message": "out of stock"}
    assert worker_server.requests_to("/code-pay-2") == []
    # An event that arrives now wakes nothing.
    assert deliver_event("Hold.go", {"hold": "code-hold-2"}).woken_runs == []


def test_an_opted_out_workflow_keeps_its_hold_when_cancelled(worker_server: LocalServer) -> None:
    order = {"hold": "code-hold-3", "charge_url": worker_server.url("/code-pay-3"), "wait": True}
    run = wait_for_status(start_run("saga-hold-kept", order), "waiting")
    assert cancel_run(run.pk).status == "cancelled"
    assert len(holds("code-hold-3")) == 1
    assert [name for name, _, _ in journal(run)] == ["reserve"]


def test_a_run_timeout_releases_the_hold_and_a_retry_completes(worker_server: LocalServer) -> None:
    worker_server.route("POST", "/code-pay-4", Reply(200))
    order = {"hold": "code-hold-4", "charge_url": worker_server.url("/code-pay-4"), "wait": True}
    run = wait_for_status(start_run("saga-hold-in-time", order), "timed_out", timeout=30)
    assert run.error == {"type": "RunTimeout", "message": "the run passed its timeout"}
    assert holds("code-hold-4") == []

    run = wait_for_status(retry_run(run.pk), "waiting")
    assert len(holds("code-hold-4")) == 1
    assert run.deadline_at is not None  # a new run timeout, counted from the retry
    deliver_event("Hold.go", {"hold": "code-hold-4"})
    wait_for_status(run, "completed")
    assert len(holds("code-hold-4")) == 1
    assert len(worker_server.requests_to("/code-pay-4")) == 1


def test_retrying_a_parent_retries_its_failed_child(worker_server: LocalServer) -> None:
    worker_server.route("POST", "/code-pay-5", Reply(502), Reply(200))
    order = {"hold": "code-hold-5", "charge_url": worker_server.url("/code-pay-5")}
    parent = wait_for_status(start_run("saga-hold-parent", order), "failed")
    [child] = Run.objects.filter(parent=parent)
    assert child.status == "failed"
    assert holds("code-hold-5") == []

    parent = wait_for_status(retry_run(parent.pk), "completed")
    assert parent.output == "code-hold-5"
    assert Run.objects.filter(parent=parent).count() == 1  # the same child, retried
    child.refresh_from_db()
    assert child.status == "completed"
    assert len(holds("code-hold-5")) == 1
    assert len(worker_server.requests_to("/code-pay-5")) == 2


def test_a_step_running_when_paused_is_recorded_and_not_repeated(
    worker_server: LocalServer,
) -> None:
    worker_server.route("POST", "/slow-6", Reply(200, delay=1.5))
    worker_server.route("POST", "/next-6", Reply(200))
    urls = {"first_url": worker_server.url("/slow-6"), "second_url": worker_server.url("/next-6")}
    run = start_run("two-calls", urls)
    deadline = time.monotonic() + 20
    while not worker_server.requests_to("/slow-6") and time.monotonic() < deadline:
        time.sleep(0.02)
    pause_run(run.pk)

    # The call in flight finishes and is journaled; the next one does not start.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.steps.filter(name="slow-call", status="completed").exists() and not run.lease_owner:
            break
        time.sleep(0.05)
    assert run.status == "paused"
    assert [name for name, _, _ in journal(run)] == ["slow-call"]
    assert worker_server.requests_to("/next-6") == []

    resume_run(run.pk)
    run = wait_for_status(run, "completed")
    assert run.output == [200, 200]
    assert len(worker_server.requests_to("/slow-6")) == 1
    assert len(worker_server.requests_to("/next-6")) == 1
