"""A failed or retried step attempt keeps where it failed (file, line, function, source line —
no directories, no locals) beside its journaled error, on a real worker, and the run's step
panel shows it; what a replay reads (the error itself) stays as it was."""

from typing import Any

import pytest

from engine.core.errors import short_traceback
from engine.models import StepRecord
from engine.runtime.runs import start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.monitoring.test_run_page__shows_journal_and_controls import logged_in

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table"),
]


def test_a_retried_attempt_keeps_its_traceback_and_the_panel_shows_it(make_user: Any) -> None:
    run = wait_for_status(start_run("test-retry", {"fail_times": 1}), "completed")
    failed = StepRecord.objects.get(run=run, name="flaky", attempt=1)
    assert failed.status == "retrying"
    assert failed.error == {"type": "ConnectionError", "message": "attempt 1 failed"}
    kept = failed.detail["traceback"]
    assert "flows.py:" in kept and "in flaky" in kept and "raise ConnectionError" in kept
    assert "/" not in kept.splitlines()[-2]  # a file name, not where it lives

    viewer = logged_in(make_user, "vera", "viewers")
    step = viewer.get(f"/api/runs/{run.pk}/steps/{failed.pk}").json()
    first = next(a for a in step["attempts"] if a["attempt"] == 1)
    assert first["error"]["message"] == "attempt 1 failed"
    assert "in flaky" in first["error"]["traceback"]


def test_a_traceback_is_bounded() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("x" * 10_000)
        deep(n - 1)

    try:
        deep(100)
    except ValueError as error:
        text = short_traceback(error)
    assert len(text) <= 4_000 and text.count(" in deep") <= 20 and "xxxx" not in text
