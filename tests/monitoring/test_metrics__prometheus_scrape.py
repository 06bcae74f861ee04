"""GET /metrics speaks Prometheus' text format from the rollups and the engine's tables, to a
scraper with the bearer token or from an allowed address, and to nobody else."""

import ipaddress
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from engine.models import Run, Timer
from engine.runtime.runs import start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess

TOKEN = "scrape-me-0123456789abcdef"


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.STEPWISE_METRICS_TOKEN = TOKEN
    settings.STEPWISE_METRICS_NETWORKS = []
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_refused_without_the_token_or_an_allowed_address(
    client: Client, settings: Any, metrics_token: str
) -> None:
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and b"stepwise_" not in wrong.content

    settings.STEPWISE_METRICS_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 401

    settings.STEPWISE_METRICS_TOKEN = ""
    settings.STEPWISE_METRICS_NETWORKS = []
    unconfigured = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert unconfigured.status_code == 403
    assert b"STEPWISE_METRICS_TOKEN" in unconfigured.content


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_values_move_as_runs_end(
    client: Client, metrics_token: str, celery_worker: RunningProcess
) -> None:
    before = scrape(client)
    runs = [start_run("test-sequence", {"steps": 2}) for _ in range(3)]
    for run in runs:
        wait_for_status(run, "completed")
    waiting = start_run("test-wait", {"order_id": 1})
    wait_for_status(waiting, "waiting")
    with transaction.atomic():
        # Uncommitted, the overdue timer is seen by the scrape (the test client shares this
        # connection) and not by a timer loop an earlier test left running, which would fire it.
        Timer.objects.create(
            run=waiting, kind="wake", due_at=timezone.now() - timedelta(seconds=30)
        )
        after = scrape(client)
        waiting_now = Run.objects.filter(status="waiting").count()

    ended = "stepwise_runs_ended_total"
    labels = {"workflow": "test-sequence", "status": "completed"}
    assert value(after, ended, **labels) - value(before, ended, **labels) == 3
    step = {"workflow": "test-sequence", "step": "step-1"}
    count = "stepwise_step_duration_seconds_count"
    assert value(after, count, **step) - value(before, count, **step) == 3
    inf = "stepwise_step_duration_seconds_bucket"
    assert value(after, inf, **step, le="+Inf") == value(after, count, **step)
    wait_count = "stepwise_run_queue_wait_seconds_count"
    assert value(after, wait_count, workflow="test-sequence") >= 3
    assert value(after, "stepwise_runs_active", status="waiting") == waiting_now == 1
    assert value(after, "stepwise_timer_lag_seconds") >= 30
    # The suite empties the tables between tests: the worker's next heartbeat (every second)
    # writes its row again.
    deadline = time.monotonic() + 10
    while value(after, "stepwise_workers_alive") < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
        after = scrape(client)
    assert value(after, "stepwise_workers_alive") >= 1
    assert value(after, "stepwise_human_tasks_open") == 0
