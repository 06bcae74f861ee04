"""A Celery worker whose database connection a PostgreSQL restart cut reconnects for its next
task, instead of failing every task with "the connection is closed" (found by the chaos test)."""

import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from config.celery import app as celery_app
from engine.messaging.dispatch import ANSWER_PROBE
from tests.chaos.cluster import PrivatePostgres
from tests.processes import process_environment, start_process, wait_until, worker_args

# The django_db mark makes the session create (migrate) the test database this test copies.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgres(stepwise_env: dict[str, str]) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL (this test restarts it) holding a copy of the test database."""
    server = PrivatePostgres()
    try:
        server.start()
        server.copy_database(stepwise_env["DATABASE_URL"], "stepwise")
        yield server
    finally:
        server.remove()


@pytest.mark.timeout(300)
def test_a_worker_answers_after_postgres_restarted_under_it(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    queue = f"{settings.STEPWISE_QUEUE}-reconnect-{uuid.uuid4().hex[:6]}"
    env = process_environment(
        DATABASE_URL=postgres.url("stepwise"), STEPWISE_QUEUE=queue, LOG_LEVEL="WARNING"
    )
    # One pool process: both probes go through the same connection.
    worker = start_process(
        "reconnect-worker",
        worker_args(queue, concurrency=1, loglevel="WARNING", heartbeat=False),
        env,
        tmp_path,
    )
    try:
        for attempt in ("before", "after"):
            if attempt == "after":
                postgres.restart(downtime=0.5)
            probe = new_probe(postgres)
            celery_app.send_task(ANSWER_PROBE, args=[probe], queue=queue)
            wait_until(
                partial(answered, postgres, probe),
                timeout=60 if attempt == "before" else 15,
                what=f"the probe sent {attempt} the restart to be answered",
                process=worker,
            )
    finally:
        worker.stop()
    assert "the connection is closed" not in worker.log()


def new_probe(postgres: PrivatePostgres) -> int:
    with psycopg.connect(postgres.url("stepwise"), connect_timeout=3) as connection:
        row = connection.execute(
            "INSERT INTO engine_workerprobe (requested_at, answered_by) VALUES (now(), '') "
            "RETURNING id"
        ).fetchone()
    assert row is not None
    return int(row[0])


def answered(postgres: PrivatePostgres, probe: int) -> bool:
    with psycopg.connect(postgres.url("stepwise"), connect_timeout=3) as connection:
        row = connection.execute(
            "SELECT answered_at IS NOT NULL FROM engine_workerprobe WHERE id = %s", [probe]
        ).fetchone()
    return bool(row and row[0])
