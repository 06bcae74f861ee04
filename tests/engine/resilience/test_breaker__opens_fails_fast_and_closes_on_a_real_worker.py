"""A circuit breaker on a real worker: five failures against a local receiver open it; while
open, runs fail fast with CircuitOpen and the receiver gets no call; after the cool-down one
probe goes through and its success closes it."""

import time

import pytest

from engine.core.resilience import BreakerSpec
from engine.models import Run, StepRecord
from engine.resilience.breakers import breaker_status, reset
from engine.runtime.runs import start_run
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.resilience_flows import TEST_BREAKER
from tests.processes import RunningProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def finished(run: Run, timeout: float = 20) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_terminal:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.pk} is still {run.status}")


def step_error(run: Run) -> dict[str, object]:
    record = StepRecord.objects.filter(run=run, kind="step").order_by("-attempt").first()
    assert record is not None and record.error is not None
    return record.error


def test_five_failures_open_it_the_cool_down_half_opens_it_a_probe_closes_it(
    celery_worker: RunningProcess, worker_server: LocalServer
) -> None:
    reset(TEST_BREAKER.name)
    # Redis outlives the test database and a reset keeps the count of openings.
    before = breaker_status(TEST_BREAKER.name)
    opened_before = before.opens if before is not None else 0
    path = "/resilience/breaker-step"
    url = worker_server.url(path)
    worker_server.route("POST", path, Reply(503, {"error": "down"}))

    for _ in range(5):
        run = finished(start_run("test-breaker-call", {"url": url}))
        assert run.status == "failed"
        assert "503" in step_error(run)["message"]
    assert len(worker_server.requests_to(path)) == 5
    status = breaker_status(TEST_BREAKER.name)
    assert status is not None and status.status == "open"
    assert status.open_until is not None

    # Open: the next runs fail fast, naming the breaker, and nothing reaches the receiver.
    for _ in range(3):
        run = finished(start_run("test-breaker-call", {"url": url}))
        error = step_error(run)
        assert run.status == "failed"
        assert error["type"] == "engine.core.errors.CircuitOpen"
        assert "circuit breaker 'test-receiver' is open" in str(error["message"])
    assert len(worker_server.requests_to(path)) == 5

    # After the cool-down it half-opens: one probe goes through and succeeds.
    worker_server.route("POST", path, Reply(200, {"ok": True}))
    while time.time() < status.open_until:
        time.sleep(0.05)
    after = breaker_status(TEST_BREAKER.name)
    assert after is not None and after.status == "half_open"
    run = finished(start_run("test-breaker-call", {"url": url}))
    assert run.status == "completed" and run.output == 200
    assert len(worker_server.requests_to(path)) == 6
    closed = breaker_status(TEST_BREAKER.name)
    assert closed is not None and closed.status == "closed"
    assert closed.opens == opened_before + 1


def test_a_failed_probe_opens_it_again(
    celery_worker: RunningProcess, worker_server: LocalServer
) -> None:
    name = f"test-block-{time.monotonic_ns()}"
    path = f"/resilience/{name}"
    url = worker_server.url(path)
    worker_server.route("POST", path, Reply(500))
    for _ in range(5):
        assert finished(start_run("test-breaker-block", {"url": url, "breaker": name})).status == (
            "failed"
        )
    opened = breaker_status(name)
    assert opened is not None and opened.status == "open" and opened.open_until is not None
    while time.time() < opened.open_until:
        time.sleep(0.05)
    run = finished(start_run("test-breaker-block", {"url": url, "breaker": name}))
    assert step_error(run)["type"] == "httpx.HTTPStatusError"
    assert len(worker_server.requests_to(path)) == 6
    reopened = breaker_status(name)
    assert reopened is not None and reopened.status == "open" and reopened.opens == 2
    assert reopened.spec == BreakerSpec(name, failure_threshold=5, window=60, cool_down=1.5)
