"""A task sent through Redis reaches a real `celery worker` process, which writes the database."""

import time

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import ApiToken
from engine.models import ProcessHeartbeat, WorkerProbe
from tests.processes import RunningProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_answer(probe_id: int, timeout: float = 20) -> WorkerProbe:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = WorkerProbe.objects.get(pk=probe_id)
        if probe.answered_at is not None:
            return probe
        time.sleep(0.05)
    raise AssertionError(f"no worker answered probe {probe_id} within {timeout}s")


def test_a_probe_is_answered_by_the_worker_process(
    celery_worker: RunningProcess, make_user
) -> None:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    response = Client().post(
        "/api/system/worker-probes", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 202
    assert response.json()["answered_at"] is None

    probe = wait_for_answer(response.json()["id"])
    assert probe.answered_by == celery_worker.name
    assert probe.round_trip_ms is not None and probe.round_trip_ms > 0

    shown = (
        Client()
        .get(f"/api/system/worker-probes/{probe.pk}", headers={"Authorization": f"Bearer {raw}"})
        .json()
    )
    assert shown["answered_by"] == celery_worker.name


def test_the_worker_records_heartbeats(celery_worker: RunningProcess) -> None:
    # Transactional tests empty the tables between tests, so this waits for a fresh beat.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        beat = ProcessHeartbeat.objects.filter(kind="worker", name=celery_worker.name).first()
        if beat is not None:
            assert settings.STEPWISE_QUEUE in beat.details["queues"]
            return
        time.sleep(0.1)
    raise AssertionError(f"no heartbeat from {celery_worker.name}:\n{celery_worker.log_tail()}")
