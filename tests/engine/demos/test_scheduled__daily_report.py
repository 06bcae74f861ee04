"""The daily report counts the last 24 hours of runs by status and mails them; its schedule,
09:00 Berlin time every day, is declared with the workflow and starts paused."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from engine.core import get_workflow
from engine.core.testing import WorkflowTester
from engine.demos import scheduled
from engine.models import Run
from engine.runtime.runs import start_run


def test_the_report_covers_the_24_hours_before_the_run() -> None:
    tester = WorkflowTester(start=datetime(2026, 3, 30, 7, tzinfo=UTC))
    windows: list[tuple[str, str]] = []

    def count(since: str, until: str) -> dict[str, int]:
        windows.append((since, until))
        return {"completed": 5, "failed": 1}

    tester.fake(scheduled.count_runs, count)
    run = tester.run(scheduled.daily_report, {"to": "team@acme.example"})

    assert run.status == "completed"
    assert windows == [("2026-03-29T07:00:00+00:00", "2026-03-30T07:00:00+00:00")]
    assert run.output["to"] == "team@acme.example"
    assert run.output["body"] == "completed: 5\nfailed: 1"
    assert run.output["subject"] == "Stepwise runs since 2026-03-29 07:00 UTC"


def test_the_schedule_is_declared_with_the_workflow_and_paused() -> None:
    definition = get_workflow("daily-report")
    assert definition is not None
    [spec] = definition.schedules
    assert (spec.cron, spec.timezone, spec.paused) == ("0 9 * * *", "Europe/Berlin", True)
    assert spec.input == {"to": "ops@acme.example"}


@pytest.mark.django_db
def test_counting_reads_the_runs_of_the_window() -> None:
    for _ in range(2):
        start_run("test-sequence", {"steps": 1})
    now = timezone.now()
    counts: Any = scheduled.count_runs(
        (now - timedelta(hours=1)).isoformat(), (now + timedelta(seconds=1)).isoformat()
    )
    assert counts == {"pending": Run.objects.count()}
