"""The runs list's socket (/ws/runs/) hears that runs were created or changed, through Daphne and
the Redis channel layer, coalesced: a burst of changes is a handful of "look again" messages,
not one per change. A socket without a viewing role is refused."""

import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from engine.runtime.runs import start_run
from tests.monitoring.test_live_sockets__runs_and_tasks_through_daphne import _socket

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]


def test_a_burst_of_runs_is_a_few_messages(daphne_server: str, make_user: Any) -> None:
    make_user("vera", "viewers")
    with _socket(daphne_server, "/ws/runs/", "vera") as socket:
        started = [start_run("test-sequence", {"steps": 1}) for _ in range(20)]
        messages = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                messages.append(
                    json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
                )
            except TimeoutError:
                break
    assert messages, "the runs list heard nothing"
    assert all(message == {"kind": "runs"} for message in messages)
    # 20 runs made at least 60 changes (created, running, completed).
    assert len(messages) < 20, len(messages)
    assert len(started) == 20


def test_a_socket_needs_a_login(daphne_server: str) -> None:
    url = daphne_server.replace("http://", "ws://") + "/ws/runs/"
    with (
        pytest.raises((InvalidStatus, ConnectionClosed)),
        connect(url, additional_headers={"Origin": daphne_server}, open_timeout=10) as socket,
    ):
        socket.recv(timeout=5)
