"""Live updates: a run's changes on a real worker reach a WebSocket through Daphne and the Redis
channel layer, and so do task changes for the inbox; sockets need a role that may view."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from engine.human import Assignees, decide_task, open_task
from engine.inbound.events import deliver_event
from engine.models import TaskKind
from engine.runtime.runs import start_run
from monitoring.consumers import _set_watching
from monitoring.live import WATCHED_REFRESH_SECONDS, Publisher, watch_member
from tests.http import logged_in_client

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]

PASSWORD = "correct horse battery"


def _socket(base_url: str, path: str, username: str) -> ClientConnection:
    client = logged_in_client(base_url, username, PASSWORD)
    headers = {"Cookie": f"sessionid={client.cookies['sessionid']}", "Origin": base_url}
    url = base_url.replace("http://", "ws://") + path
    return connect(url, additional_headers=headers, open_timeout=10)


def _until(socket: ClientConnection, wanted: Any, timeout: float = 20) -> list[dict[str, Any]]:
    """Every message up to and including the first that `wanted` accepts."""
    seen: list[dict[str, Any]] = []
    while True:
        message = json.loads(socket.recv(timeout=timeout))
        seen.append(message)
        if wanted(message):
            return seen


def test_a_run_streams_its_status_and_steps_to_its_socket(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    run = start_run("test-wait-simple", {"n": 41})
    other = start_run("test-wait-simple", {"n": 42})
    with (
        _socket(daphne_server, f"/ws/runs/{run.pk}/", "vera") as watching,
        _socket(daphne_server, f"/ws/runs/{other.pk}/", "vera") as elsewhere,
    ):
        time.sleep(WATCHED_REFRESH_SECONDS * 2)  # workers learn of new watchers this often
        deliver_event("Load.released", {"n": 41})
        seen = _until(watching, lambda m: m == {**m, "kind": "run", "status": "completed"})
        assert {message["kind"] for message in seen} >= {"run", "step"}
        assert all(message["run"] == run.pk for message in seen)
        # The other run's socket hears nothing of this one.
        with pytest.raises(TimeoutError):
            elsewhere.recv(timeout=1)


def test_task_changes_reach_the_inbox_socket(daphne_server: str, make_user) -> None:
    manager = make_user("manny", "approvers")
    run = start_run("test-sleep", {"seconds": 60})
    with _socket(daphne_server, "/ws/inbox/", "manny") as socket:
        task = open_task(
            run_id=run.pk,
            step_name="ask",
            kind=TaskKind.APPROVAL,
            title="Go?",
            assignees=Assignees(users=("manny",), groups=()),
        )
        created = _until(socket, lambda m: m.get("task") == task.pk)[-1]
        assert created == {
            "kind": "task",
            "task": task.pk,
            "run": run.pk,
            "status": "open",
            "event": "created",
        }
        decide_task(task.pk, manager, "approved")
        decided = _until(socket, lambda m: m.get("status") == "approved")[-1]
        assert decided["task"] == task.pk


def test_sockets_need_a_login_and_a_role(daphne_server: str, make_user) -> None:
    make_user("nobody")
    for path in ("/ws/runs/1/", "/ws/inbox/"):
        with pytest.raises(InvalidStatus) as refused:
            _socket(daphne_server, path, "nobody")
        assert refused.value.response.status_code == 403
        url = daphne_server.replace("http://", "ws://") + path
        with pytest.raises(InvalidStatus):
            connect(url, additional_headers={"Origin": daphne_server}, open_timeout=10)


# The permission matrix's socket rows: each route, a path to open it with. Every one needs a
# login and a role that may view (no socket grants more than reading).
SOCKETS = {
    "ws/ping/": "/ws/ping/",
    "ws/runs/": "/ws/runs/",
    "ws/runs/<int:run_id>/": "/ws/runs/1/",
    "ws/inbox/": "/ws/inbox/",
    "ws/dashboards/": "/ws/dashboards/",
    "ws/instances/<int:instance_id>/": "/ws/instances/1/",
    "ws/machines/<slug:slug>/": "/ws/machines/order/",
    "ws/resilience/": "/ws/resilience/",
}


def test_every_socket_has_a_row_and_answers_each_role(daphne_server: str, make_user) -> None:
    from monitoring.routing import websocket_urlpatterns

    assert sorted(str(route.pattern) for route in websocket_urlpatterns) == sorted(SOCKETS)
    make_user("nobody")
    make_user("vic", "viewers")
    for path in SOCKETS.values():
        url = daphne_server.replace("http://", "ws://") + path
        with pytest.raises(InvalidStatus):
            connect(url, additional_headers={"Origin": daphne_server}, open_timeout=10)
        with pytest.raises(InvalidStatus) as refused:
            _socket(daphne_server, path, "nobody")
        assert refused.value.response.status_code == 403, path
        with _socket(daphne_server, path, "vic") as opened:
            assert opened.protocol.state.name == "OPEN", path


def test_workers_publish_only_the_runs_an_open_socket_watches() -> None:
    """The watched set in Redis decides; a socket that closes takes its run out again."""
    member = watch_member(9_001, "specific.test!channel")
    _run_async(_set_watching(member, True))
    try:
        fresh = Publisher()
        assert fresh.watched(9_001) and not fresh.watched(9_002)
    finally:
        _run_async(_set_watching(member, False))
    assert not Publisher().watched(9_001)


def _run_async(coroutine: Any) -> None:
    # In another thread: Playwright's tests keep an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()
