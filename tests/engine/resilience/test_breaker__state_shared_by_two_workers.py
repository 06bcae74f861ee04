"""Two worker processes share one breaker through the database backend (the embedded default's
store): five failures in total open it for both, so the receiver gets at most the calls that
were already in flight, not five per process; once open, neither process calls."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app
from engine.models import ResilienceState, Run, StepRecord
from engine.runtime.runs import start_run
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.runtime.test_durability__crash_and_scale import start_worker
from tests.processes import RunningProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_workers_on_the_database(
    stepwise_env: dict[str, str], process_logs: Path, celery_worker: RunningProcess
) -> Iterator[list[RunningProcess]]:
    """Two workers of their own on the database backend; the session's worker (on Redis)
    stops taking this queue meanwhile. Only that worker is told: a ping on a shared broker
    also answers other sessions' workers, which must never start taking this queue."""
    env = {**stepwise_env, "STEPWISE_RESILIENCE_STATE": "database"}
    session = [celery_worker.name]
    celery_app.control.cancel_consumer(settings.STEPWISE_QUEUE, destination=session, reply=True)
    workers = [start_worker(env, process_logs), start_worker(env, process_logs)]
    yield workers
    for worker in workers:
        worker.stop()
    celery_app.control.add_consumer(settings.STEPWISE_QUEUE, destination=session, reply=True)


def all_finished(runs: list[Run], timeout: float = 90) -> list[Run]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Run.objects.filter(
            pk__in=[run.pk for run in runs],
            status__in=["pending", "running", "waiting", "scheduled"],
        ).exists():
            return list(Run.objects.filter(pk__in=[run.pk for run in runs]))
        time.sleep(0.05)
    statuses = list(Run.objects.filter(pk__in=[run.pk for run in runs]).values_list("status"))
    raise AssertionError(f"runs did not finish: {statuses}")


def refused(runs: list[Run]) -> int:
    return StepRecord.objects.filter(
        run__in=runs, kind="step", error__type="engine.core.errors.CircuitOpen"
    ).count()


def test_five_failures_across_two_processes_open_it_for_both(
    two_workers_on_the_database: list[RunningProcess], worker_server: LocalServer
) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    path = f"/resilience/{name}"
    url = worker_server.url(path)
    worker_server.route("POST", path, Reply(503, delay=0.2))

    runs = [start_run("test-breaker-block", {"url": url, "breaker": name}) for _ in range(12)]
    runs = all_finished(runs)
    calls = worker_server.requests_to(path)
    callers = {request.json()["pid"] for request in calls}
    assert len(callers) == 2, "both worker processes called the receiver"
    # One state for both: the fifth failure opened it; only a call in flight then got through.
    assert 5 <= len(calls) <= 6
    assert refused(runs) == 12 - len(calls)
    row = ResilienceState.objects.get(kind="breaker", name=name)
    assert row.state["status"] == "open"

    later = all_finished(
        [start_run("test-breaker-block", {"url": url, "breaker": name}) for _ in range(6)]
    )
    assert refused(later) == 6
    assert len(worker_server.requests_to(path)) == len(calls)
