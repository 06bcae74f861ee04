"""Minute rollups older than two hours are merged into one row per hour: every sum over whole
hours stays the same, recent minutes keep their detail, and the examples of runs survive."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from engine.models import RunRollup, StepRollup
from engine.runtime import rollup_rebuild
from engine.runtime.rollups import minute_of

pytestmark = pytest.mark.django_db


def seed() -> Any:
    hour = minute_of(timezone.now()).replace(minute=0) - timedelta(hours=5)
    # Rows of several shards (runs spread a minute over them), the hour's own minute among them.
    runs = [(0, 1, 0, 0), (7, 2, 1, 0), (59, 4, 0, 3), (60, 8, 0, 0), (0, 32, 0, 5)]
    for offset, started, failed, shard in runs:
        RunRollup.objects.create(
            minute=hour + timedelta(minutes=offset),
            workflow="orders",
            shard=shard,
            started=started,
            failed=failed,
            d03=started,
        )
    recent = minute_of(timezone.now()) - timedelta(minutes=3)
    RunRollup.objects.create(minute=recent, workflow="orders", started=16)
    steps = [(5, 2.0, 11, 0), (6, 9.0, 12, 5), (8, 4.0, 13, 0), (0, 1.0, 14, 2)]
    for offset, seconds, run, shard in steps:
        StepRollup.objects.create(
            minute=hour + timedelta(minutes=offset),
            workflow="orders",
            step="charge",
            shard=shard,
            completed=1,
            d05=1,
            slowest_run=run,
            slowest_seconds=seconds,
            failed_run=run if run == 13 else None,
        )
    return hour, recent


def totals() -> dict[str, Any]:
    return RunRollup.objects.aggregate(s=Sum("started"), f=Sum("failed"), d=Sum("d03"))


@pytest.mark.parametrize("in_python", [False, True])
def test_old_minutes_become_hours(in_python: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if in_python:  # the embedded SQLite's way, run here on PostgreSQL
        monkeypatch.setattr(rollup_rebuild.connection, "vendor", "sqlite")
    hour, recent = seed()
    before = totals()
    removed = rollup_rebuild.compact_rollups()
    # Runs' minutes 7 and 59 and the hour's shard 5, every row of steps.
    assert removed == 3 + 4
    assert totals() == before
    rows = dict(RunRollup.objects.values_list("minute", "started"))
    assert rows == {hour: 39, hour + timedelta(hours=1): 8, recent: 16}
    assert set(RunRollup.objects.values_list("shard", flat=True)) == {0}
    step = StepRollup.objects.get()
    assert (step.minute, step.shard, step.completed, step.d05) == (hour, 0, 4, 4)
    assert (step.slowest_run, step.slowest_seconds, step.failed_run) == (12, 9.0, 13)
    assert rollup_rebuild.compact_rollups() == 0  # nothing left to merge
