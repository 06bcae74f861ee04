"""A run started through the API while the broker is unreachable is created and answered 201
(not 500, which would make a client start it again), and runs once a worker can be reached:
the message that could not be sent is sent again by the timer loop (found by the chaos test)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.models import Run
from tests.designer.test_graph_api__draft_publish_run import bearer
from tests.processes import (
    RunningProcess,
    daphne_args,
    free_port,
    health_answers,
    start_process,
    wait_until,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker", "timer_loop"),
]


@pytest.fixture
def web_without_broker(stepwise_env: dict[str, str], process_logs: Path) -> Iterator[str]:
    """A Daphne whose Redis (broker, channel layer, cache) is a port nobody listens on."""
    port = free_port()
    env = stepwise_env | {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    server: RunningProcess = start_process(
        "daphne-without-broker",
        daphne_args(port),
        env,
        process_logs,
    )
    base_url = f"http://127.0.0.1:{port}"

    wait_until(
        health_answers(base_url), timeout=180, what="Daphne to answer /health", process=server
    )
    yield base_url
    server.stop()


@pytest.mark.timeout(300)
def test_a_run_started_without_a_broker_is_kept_and_runs_later(
    web_without_broker: str, make_user: Any
) -> None:
    headers = bearer(make_user, "otto", "operators")
    started = httpx.post(
        f"{web_without_broker}/api/workflows/test-sequence/runs",
        json={"input": {"steps": 2}},
        headers=headers,
        timeout=30,
    )

    assert started.status_code == 201, started.text
    run = Run.objects.get(workflow="test-sequence")
    assert run.pk == started.json()["id"]
    wait_until(
        lambda: Run.objects.get(pk=run.pk).status == "completed",
        timeout=60,
        what="the run to be sent again and complete",
    )
    assert Run.objects.get(pk=run.pk).output == ["step-1", "step-2"]
    assert Run.objects.filter(workflow="test-sequence").count() == 1
