"""Workflows report progress between steps and record metrics from journaled time."""

from datetime import timedelta
from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import progress


def test_progress_is_reported_before_each_stage_and_at_the_end() -> None:
    """tracked-import reports 0/5 … 4/5 before its stages and 5/5 when done."""
    run = WorkflowTester().run(progress.tracked_import, {"source": "s3://bucket/file.csv"})

    assert run.output == {"stages": list(progress.IMPORT_STAGES)}
    assert [(p["current"], p["total"]) for p in run.progress] == [(n, 5) for n in range(6)]
    assert run.progress[0]["message"] == "download…"
    assert run.progress[-1]["message"] == "done"


def test_the_duration_metric_measures_the_journaled_time_around_the_step() -> None:
    """measured-operation records how long its step took and that it succeeded."""
    tester = WorkflowTester()

    def takes_42_seconds(data: dict[str, Any]) -> dict[str, Any]:
        tester.clock += timedelta(seconds=42)  # the harness's clock moves only when told
        return {"ok": True}

    tester.fake(progress.measured_step, takes_42_seconds)

    run = tester.run(progress.measured_operation, {"value": 1})

    assert run.output == {"ok": True}
    assert run.metrics == [("duration_seconds", 42.0), ("succeeded", 1.0)]
