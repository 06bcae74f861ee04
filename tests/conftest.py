"""Fixtures every part of the suite shares: real services and real Stepwise processes."""

import functools
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.test import TransactionTestCase

from tests.engine.graph.local_server import AI_TEST_MODEL, LocalServer
from tests.processes import (
    RunningProcess,
    daphne_args,
    database_url_for,
    free_port,
    process_environment,
    start_process,
    stop_all_processes,
    wait_until,
    worker_args,
)
from tests.queues import others_stop_consuming

SERVICE_HINTS = {
    "PostgreSQL": "start it (Debian: pg_ctlcluster <version> main start) or set DATABASE_URL",
    "Redis": "start it (redis-server --daemonize yes) or set REDIS_URL",
}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, saying which service is missing, instead of failing test by test."""
    missing = []
    if settings.DATABASE_URL and not _reachable(settings.DATABASE_URL, 5432):
        missing.append(("PostgreSQL", settings.DATABASE_URL))
    if settings.REDIS_URL and not _reachable(settings.REDIS_URL, 6379):
        missing.append(("Redis", settings.REDIS_URL))
    if missing:
        lines = [
            f"{name} is not reachable at {url}: {SERVICE_HINTS[name]}" for name, url in missing
        ]
        pytest.exit("\n".join(lines), returncode=3)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_all_processes()


def _flush_retrying_on_lock_conflicts() -> None:
    """A worker still finishing the last test's run can deadlock with the TRUNCATE that empties
    the database after a transactional test; PostgreSQL then aborts one side. The flush is one
    transaction, so trying it again is safe."""
    original = TransactionTestCase._fixture_teardown

    def fixture_teardown(self: TransactionTestCase) -> None:
        for attempt in range(1, 6):
            try:
                original(self)
                return
            except CommandError as error:
                if attempt == 5 or not isinstance(error.__cause__, DatabaseError):
                    raise
                time.sleep(0.2 * attempt)

    TransactionTestCase._fixture_teardown = fixture_teardown  # type: ignore[method-assign]


_flush_retrying_on_lock_conflicts()


@pytest.fixture(autouse=True)
def _the_project_app_stays_current() -> Iterator[None]:
    """Sends go through Celery's current app: a test that made another one current (a Celery()
    built for a private broker) would send every later test's messages to a broker that is gone."""
    yield
    from celery import current_app

    from config.celery import app

    assert current_app._get_current_object() is app, "a test left another Celery app current"


@pytest.fixture
def queue_to_ourselves() -> Iterator[None]:
    """Workers an earlier test left running stop consuming the queue: only this test's own
    workers, or its own process, advance its runs."""
    with others_stop_consuming():
        yield


@pytest.fixture(scope="session")
def process_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("process-logs")


@pytest.fixture(scope="session")
def worker_server() -> Iterator[LocalServer]:
    """A local HTTP server the workers' HTTP and AI nodes may call (allow-listed for them)."""
    with LocalServer() as server:
        yield server


WORKER_SECRET_NAME = "WORKER_TEST_TOKEN"
WORKER_SECRET_VALUE = "wsk-5d1f0c7e9a2b4863"
"""A secret the worker processes hold, for tests that check where a secret may never go."""


@pytest.fixture(scope="session")
def stepwise_env(
    django_db_setup: None, django_db_blocker: Any, worker_server: LocalServer
) -> dict[str, str]:
    """Environment for child processes: production settings on the test database."""
    with django_db_blocker.unblock():
        test_database = connection.settings_dict["NAME"]
    return process_environment(
        DATABASE_URL=database_url_for(settings.DATABASE_URL, test_database),
        STEPWISE_HTTP_ALLOWLIST=f"127.0.0.1:{worker_server.port}",
        STEPWISE_AI_BASE_URL=worker_server.url("/v1"),
        STEPWISE_AI_MODEL=AI_TEST_MODEL,
        **{f"STEPWISE_SECRET_{WORKER_SECRET_NAME}": WORKER_SECRET_VALUE},
    )


@pytest.fixture(scope="session")
def celery_worker(stepwise_env: dict[str, str], process_logs: Path) -> Iterator[RunningProcess]:
    """A real `celery worker` process (prefork) on Redis and the test database."""
    from config.celery import app

    hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
    worker = start_process(
        "celery-worker",
        worker_args(settings.STEPWISE_QUEUE, hostname=hostname),
        stepwise_env,
        process_logs,
    )
    wait_until(
        lambda: bool(app.control.ping(destination=[hostname], timeout=0.5)),
        timeout=60,
        what="the Celery worker to answer a ping",
        process=worker,
    )
    worker.name = hostname
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def timer_loop(stepwise_env: dict[str, str], process_logs: Path) -> Iterator[RunningProcess]:
    """A real `manage.py timer_loop` process on the test database. It wakes for whatever falls
    due (timers, debounced starts, machine timers) at its time whatever the interval; the
    interval bounds how late a schedule fires, and each tick costs queries all through the
    suite (at 0.1 s the loop and its backend took a quarter of a core)."""
    loop = start_process(
        "timer-loop",
        ["manage.py", "timer_loop", "--interval", "0.25"],
        stepwise_env,
        process_logs,
    )
    wait_until(lambda: "running" in loop.log(), timeout=60, what="the timer loop", process=loop)
    yield loop
    loop.stop()


@pytest.fixture(scope="session")
def side_effects_table(django_db_setup: None, django_db_blocker: Any) -> None:
    """The plain table test steps write their effects to, keyed by idempotency key."""
    from tests.engine.flows import EFFECTS_TABLE

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(EFFECTS_TABLE)


@pytest.fixture(scope="session")
def daphne(
    stepwise_env: dict[str, str], process_logs: Path
) -> Iterator[tuple[str, RunningProcess]]:
    """A real Daphne serving Stepwise (HTTP and WebSockets): its base URL and its process."""
    port = free_port()
    server = start_process(
        "daphne",
        daphne_args(port),
        stepwise_env,
        process_logs,
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/health", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=60, what="Daphne to answer /health", process=server)
    yield base_url, server
    server.stop()


@pytest.fixture(scope="session")
def daphne_server(daphne: tuple[str, RunningProcess]) -> str:
    """The base URL of a real Daphne serving Stepwise."""
    return daphne[0]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Playwright drives Debian's Chromium; its own browser download is not available."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: run .ci/ensure-chromium (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    }


@functools.cache
def _hashed(password: str) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


@pytest.fixture
def make_user(django_user_model: Any) -> Any:
    """Create a user with a password and, optionally, Stepwise roles (group names)."""
    from django.contrib.auth.models import Group

    def make(
        username: str, *roles: str, password: str = "correct horse battery", **fields: Any
    ) -> Any:
        # Hashed once per password for the session: a hash costs half a second by design, and
        # a test making seven people paid it seven times before it began.
        user = django_user_model(username=username, password=_hashed(password), **fields)
        user.save()
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def designer_api(client: Any, make_user: Any) -> Any:
    """Call the JSON API as a designer with a bearer token: call(method, path, body)."""
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(make_user("dana", "designers"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        return getattr(client, method)(
            path, body or {}, content_type="application/json", headers=headers
        )

    return call
