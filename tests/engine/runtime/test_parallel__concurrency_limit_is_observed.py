"""`parallel(calls, concurrency=10)` runs at most ten of its steps at once, and as many as
ten, as a receiver sees them, on a worker that could run fourteen."""

import pytest

from engine.models import Run
from engine.runtime.runs import start_run
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.runtime.test_durability__crash_and_scale import start_worker
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def test_at_most_ten_parallel_steps_in_flight(
    stepwise_env: dict[str, str],
    process_logs: object,
    queue_to_ourselves: None,
    worker_server: LocalServer,
) -> None:
    worker_server.route("POST", "/parallel/limit", Reply(200, {"ok": True}, delay=2.5))
    worker = start_worker(stepwise_env, process_logs, concurrency=14, pool="threads")  # type: ignore[arg-type]
    try:
        run = start_run(
            "test-parallel-limit",
            {"url": worker_server.url("/parallel/limit"), "count": 20, "concurrency": 10},
        )
        wait_until(
            lambda: Run.objects.get(pk=run.pk).status == "completed", timeout=120, what="the run"
        )
    finally:
        worker.stop()
    assert len(worker_server.requests_to("/parallel/limit")) == 20
    assert worker_server.most_in_flight("/parallel/limit") == 10
