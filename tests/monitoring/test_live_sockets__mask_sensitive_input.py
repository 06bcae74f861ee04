"""A run's socket sends each user the run's live updates through their mask: on a real worker,
a progress message quoting a sensitive input value and a step named from it reach a viewer as
`***` and an operator in clear, through the Redis channel layer and Daphne."""

import json
import time
from typing import Any

import pytest

from engine.inbound.events import deliver_event
from engine.runtime.runs import start_run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.engine.sensitive_flows import SAMPLE_INPUT
from tests.monitoring.test_live_sockets__runs_and_tasks_through_daphne import _socket, _until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]


def _of_kind(seen: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [message for message in seen if message.get("kind") == kind]


def test_live_updates_are_masked_for_viewers(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    make_user("olga", "operators")
    run = start_run("test-sensitive", {**SAMPLE_INPUT, "wait": True})
    path = f"/ws/runs/{run.pk}/"
    ended = lambda message: message.get("kind") == "run" and message.get("status") == "completed"  # noqa: E731
    with (
        _socket(daphne_server, path, "vera") as viewer,
        _socket(daphne_server, path, "olga") as operator,
    ):
        time.sleep(WATCHED_REFRESH_SECONDS * 2)  # workers learn of new watchers this often
        deliver_event("Sensitive.go", {"name": "Ada"})
        seen_by_viewer = _until(viewer, ended, timeout=60)
        seen_by_operator = _until(operator, ended, timeout=60)

    assert "ada@example.com" not in json.dumps(seen_by_viewer)
    assert "4111 1111 1111" not in json.dumps(seen_by_viewer)
    assert {"message": "writing to ***", "current": 1, "total": 2}.items() <= _of_kind(
        seen_by_viewer, "progress"
    )[0].items()
    assert "mail-***" in {message["step"] for message in _of_kind(seen_by_viewer, "step")}

    assert _of_kind(seen_by_operator, "progress")[0]["message"] == "writing to ada@example.com"
    assert "mail-ada@example.com" in {
        message["step"] for message in _of_kind(seen_by_operator, "step")
    }
