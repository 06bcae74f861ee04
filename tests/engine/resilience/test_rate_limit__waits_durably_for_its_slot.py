"""A keyed rate limit on a real worker: a second call for the same key within the period waits
for its slot durably (the run waits with a timer row, holding no worker, without using up an
attempt of its retry policy), while another key's call goes at once."""

import time
import uuid

import pytest

from engine.models import Run, StepRecord, Timer
from engine.runtime.runs import start_run
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.resilience_flows import TEST_LIMIT
from tests.processes import RunningProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_status(run: Run, *statuses: str, timeout: float = 20) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in statuses:
            return run
        time.sleep(0.02)
    raise AssertionError(f"run {run.pk} is {run.status}, not {statuses}; error: {run.error}")


def test_the_same_key_waits_for_its_slot_another_key_does_not(
    celery_worker: RunningProcess, timer_loop: RunningProcess, worker_server: LocalServer
) -> None:
    path = "/resilience/limited"
    url = worker_server.url(path)
    worker_server.route("POST", path, Reply(200))
    customer, other = f"c-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"

    first = wait_for_status(
        start_run("test-rate-limited", {"url": url, "customer": customer}), "completed"
    )
    second = start_run("test-rate-limited", {"url": url, "customer": customer})
    elsewhere = start_run("test-rate-limited", {"url": url, "customer": other})
    assert wait_for_status(elsewhere, "completed").output == 200

    # The second run waits for its slot: a timer row, no lease, a deferred attempt.
    second = wait_for_status(second, "waiting")
    assert second.lease_owner == ""
    assert Timer.objects.filter(run=second).count() == 1
    deferred = StepRecord.objects.get(run=second, kind="step", attempt=1)
    assert deferred.status == "retrying"
    assert deferred.error is not None
    assert deferred.error["type"] == "engine.core.errors.RateLimited"
    assert deferred.error["deferred"] == 1
    assert f"rate limit {TEST_LIMIT.name!r} for key {customer!r}" in deferred.error["message"]

    second = wait_for_status(second, "completed")
    calls = {
        request.json()["customer"] + ("" if index == 0 else "-later"): request.json()["at"]
        for index, request in enumerate(
            r for r in worker_server.requests_to(path) if r.json()["customer"] == customer
        )
    }
    assert list(calls) == [customer, f"{customer}-later"]
    # limit 1 per 6 s: the second call went no sooner than its slot, 6 s after the first.
    assert calls[f"{customer}-later"] - calls[customer] >= 6.0 - 0.05
    # Its retry policy allows one attempt: the wait for the slot did not use it up.
    assert StepRecord.objects.get(run=second, kind="step", attempt=2).status == "completed"
    assert first.output == 200
    assert not Timer.objects.filter(run=second).exists()
