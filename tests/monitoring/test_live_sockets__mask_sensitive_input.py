"""A run's socket sends each user the run's live updates through their mask: a step named
from a sensitive input value and a progress message quoting it reach a viewer as `***` and an
operator in clear, published by the engine's signals through the Redis channel layer and Daphne."""

import json
import time

import pytest
from django.utils import timezone

from engine.messaging.signals import run_progress, step_changed
from engine.models import Run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.engine.sensitive_flows import SAMPLE_INPUT
from tests.monitoring.test_live_sockets__runs_and_tasks_through_daphne import _socket, _until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_live_updates_are_masked_for_viewers(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    make_user("olga", "operators")
    run = Run.objects.create(
        workflow="test-sensitive",
        version="code",
        status="running",
        input=SAMPLE_INPUT,
        created_at=timezone.now(),
    )
    path = f"/ws/runs/{run.pk}/"
    with (
        _socket(daphne_server, path, "vera") as viewer,
        _socket(daphne_server, path, "olga") as operator,
    ):
        time.sleep(WATCHED_REFRESH_SECONDS * 2)  # publishers learn of new watchers this often
        progress = {"current": 1, "total": 2, "message": "writing to ada@example.com"}
        run_progress.send(sender=None, run_id=run.pk, progress=progress)
        time.sleep(0.3)  # a run's messages go out at most every 0.2 s
        step = {"seq": 1, "branch": 0, "kind": "step", "attempt": 1, "status": "completed"}
        step_changed.send(sender=None, run_id=run.pk, name="mail-ada@example.com", **step)
        is_step = lambda message: message.get("kind") == "step"  # noqa: E731
        seen_by_viewer = _until(viewer, is_step)
        seen_by_operator = _until(operator, is_step)
    assert "ada@example.com" not in json.dumps(seen_by_viewer)
    assert seen_by_viewer == [
        {"kind": "progress", "run": run.pk, "current": 1, "total": 2, "message": "writing to ***"},
        {"kind": "step", "run": run.pk, "step": "mail-***", "status": "completed"},
    ]
    assert seen_by_operator[0]["message"] == "writing to ada@example.com"
    assert seen_by_operator[1]["step"] == "mail-ada@example.com"
