"""What workflows record with metric() is added to per-minute metric rollups (count, sum, min,
max per workflow and name) in the transaction that stores it, on a real worker; the dashboard
charts it from those rows alone; `rebuild_rollups` recomputes the same rows from RunMetric, and
compaction merges old minutes into hours without changing a total or a range."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from engine.models import MetricRollup, RunMetric
from engine.runtime.rollup_rebuild import compact_rollups, rebuild_rollups
from engine.runtime.rollups import minute_of
from engine.runtime.runs import start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def viewer(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("mona", "viewers"))
    return client


def totals(workflow: str, name: str) -> tuple[int, float, float, float]:
    rows = list(MetricRollup.objects.filter(workflow=workflow, name=name))
    return (
        sum(row.count for row in rows),
        sum(row.value_sum for row in rows),
        min(row.value_min for row in rows),
        max(row.value_max for row in rows),
    )


def rows() -> list[tuple[Any, ...]]:
    return sorted(
        MetricRollup.objects.values_list(
            "minute", "workflow", "name", "count", "value_sum", "value_min", "value_max"
        )
    )


@pytest.mark.integration
@pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table")
def test_metrics_roll_up_as_recorded_chart_from_the_rollup_and_rebuild(viewer: Client) -> None:
    """Workflow code's metric (test-sequence's `steps`) and a parallel step's (test-parallel's
    `squared`) are both counted; the chart still shows them with every RunMetric row gone;
    a rebuild (in the database or in Python) gives back the rows the engine kept."""
    started = [start_run("test-sequence", {"steps": n}) for n in (1, 2, 3)]
    started.append(start_run("test-parallel", {"numbers": [2, 3]}))
    for run in started:
        wait_for_status(run, "completed")

    assert totals("test-sequence", "steps") == (3, 6.0, 1.0, 3.0)
    assert totals("test-parallel", "squared") == (2, 13.0, 4.0, 9.0)
    kept = rows()
    call_command("rebuild_rollups", verbosity=0)
    assert rows() == kept
    rebuild_rollups(in_python=True)
    assert rows() == kept

    RunMetric.objects.all().delete()  # the chart must not need them
    charts = viewer.get("/dashboards/data?period=hour").json()["metrics"]
    shown = {(chart["workflow"], chart["name"]): chart for chart in charts}
    steps = shown["test-sequence", "steps"]
    assert (sum(steps["count"]), min(steps["min"]), max(steps["max"])) == (3, 1.0, 3.0)
    assert sum(m * n for m, n in zip(steps["mean"], steps["count"], strict=True)) == 6.0
    only = viewer.get("/dashboards/data?period=hour&workflow=test-parallel").json()["metrics"]
    assert [(chart["name"], sum(chart["count"])) for chart in only] == [("squared", 2)]

    rebuild_rollups()  # from RunMetric, now empty
    assert rows() == []


def test_compaction_merges_old_minutes_into_their_hour_keeping_totals_and_range() -> None:
    """Three minutes of one hour three hours ago become one row at the hour; a recent minute
    stays as it is."""
    hour = minute_of(timezone.now() - timedelta(hours=3)).replace(minute=0)
    recent = minute_of(timezone.now())
    for minute, count, total, low, high in (
        (hour, 2, 10.0, 4.0, 6.0),
        (hour + timedelta(minutes=7), 1, -3.0, -3.0, -3.0),
        (hour + timedelta(minutes=59), 4, 40.0, 1.0, 25.0),
        (recent, 1, 5.0, 5.0, 5.0),
    ):
        MetricRollup.objects.create(
            minute=minute,
            workflow="orders",
            name="amount",
            count=count,
            value_sum=total,
            value_min=low,
            value_max=high,
        )

    compact_rollups()

    assert rows() == [
        (hour, "orders", "amount", 7, 47.0, -3.0, 25.0),
        (recent, "orders", "amount", 1, 5.0, 5.0, 5.0),
    ]
