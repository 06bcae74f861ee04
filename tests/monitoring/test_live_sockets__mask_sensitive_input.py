"""A run's socket sends each user the run's live updates through their mask: a step named
from a sensitive input value reaches a viewer as `mail-***` and an operator in clear, through
Daphne, the Redis channel layer and a real worker."""

import json
import time

import pytest

from engine.inbound.events import deliver_event
from engine.runtime.runs import start_run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.engine.sensitive_flows import SAMPLE_INPUT
from tests.monitoring.test_live_sockets__runs_and_tasks_through_daphne import _socket, _until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

INPUT = {**SAMPLE_INPUT, "wait": True}


def test_live_updates_are_masked_for_viewers(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    make_user("olga", "operators")
    run = start_run("test-sensitive", INPUT)
    path = f"/ws/runs/{run.pk}/"
    with (
        _socket(daphne_server, path, "vera") as viewer,
        _socket(daphne_server, path, "olga") as operator,
    ):
        time.sleep(WATCHED_REFRESH_SECONDS * 2)  # workers learn of new watchers this often
        deliver_event("Sensitive.go", {"name": "Ada"})
        ended = lambda message: message.get("kind") == "run" and message["status"] == "completed"  # noqa: E731
        seen_by_viewer = _until(viewer, ended)
        seen_by_operator = _until(operator, ended)
    viewer_text = json.dumps(seen_by_viewer)
    assert "ada@example.com" not in viewer_text
    assert "mail-***" in [message.get("step") for message in seen_by_viewer]
    assert "mail-ada@example.com" in [message.get("step") for message in seen_by_operator]
