"""monitoring.run_map.recent_p95 takes each step's p95 in PostgreSQL over recent completed runs
of the same version: the sorted durations' entry at min(n - 1, floor(0.95 n)), by canvas node
for a graph (loop items count for their node) or by name for code, and nothing for a step with
fewer than five samples or from other versions, unfinished runs or the run itself."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord
from monitoring.run_map import recent_p95

pytestmark = pytest.mark.django_db


def a_run(status: str = RunStatus.COMPLETED, version: str = "v1") -> Run:
    began = timezone.now() - timedelta(hours=1)
    return Run.objects.create(
        workflow="p95", kind="graph", version=version, status=status, created_at=began
    )


def took(run: Run, name: str, seconds: float, seq: int) -> None:
    began = timezone.now() - timedelta(hours=1)
    StepRecord.objects.create(
        run=run,
        seq=seq,
        name=name,
        kind="step",
        status="completed",
        started_at=began,
        finished_at=began + timedelta(seconds=seconds),
    )


def test_the_p95_of_each_node_over_recent_runs_of_the_version() -> None:
    this = a_run(RunStatus.RUNNING)
    for index in range(20):  # 1 s … 20 s: the entry at 19, not the one at 18
        took(a_run() if index < 10 else this, f"work[{index}]", index + 1, index)
    for index in range(10, 20):
        took(a_run(), f"work[{index}]", index + 1, 0)
    for _ in range(4):  # too few to say
        took(a_run(), "rare", 1, 0)
    took(a_run(RunStatus.FAILED), "work[99]", 500, 0)
    took(a_run(version="v2"), "work[98]", 500, 0)
    found = recent_p95(this, by_node=True)
    assert found == {"work": timedelta(seconds=20)}
    by_name = recent_p95(this, by_node=False)
    assert by_name == {}  # each item its own name, each with one sample
