"""/dashboards/data sums the rollups of a period (and one workflow), compares them with the
period before, estimates percentiles from the histogram buckets, and is for viewers only."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engine.core.histograms import bucket_of
from engine.models import HumanTask, Run, RunRollup, Schedule, ScheduleFire, StepRollup
from engine.runtime.rollups import minute_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("vera", "viewers"))
    return client


def rollup(minutes_ago: int, workflow: str, **counts: int) -> None:
    minute = minute_of(timezone.now()) - timedelta(minutes=minutes_ago)
    RunRollup.objects.create(minute=minute, workflow=workflow, **counts)


def test_totals_change_series_and_percentiles_for_a_period(viewer: Client) -> None:
    fast, slow = f"d{bucket_of(0.3):02d}", f"d{bucket_of(20):02d}"  # 0.25 to 0.5 s, 10 to 30 s
    rollup(5, "orders", started=10, completed=8, failed=2, **{fast: 9, slow: 1})
    rollup(30, "orders", started=5, completed=5, **{fast: 5})
    rollup(20, "billing", started=3, failed=3, **{slow: 3})
    rollup(90, "orders", started=4, completed=4)  # the hour before: the comparison
    rollup(60 * 30, "orders", started=100, completed=100)  # long ago: in no period asked

    data = viewer.get("/dashboards/data?period=hour").json()
    totals = data["totals"]
    assert totals["started"] == {"value": 18, "previous": 4, "change": 350.0}
    assert totals["failed"]["value"] == 5 and totals["failed"]["change"] is None
    assert sum(data["series"]["started"]) == 18 and len(data["series"]["t"]) == 3
    assert data["series"]["failure_rate"] == [0.0, 100.0, 20.0]

    orders = viewer.get("/dashboards/data?period=hour&workflow=orders").json()
    assert orders["totals"]["started"]["value"] == 15
    (row,) = orders["durations"]
    assert row["workflow"] == "orders" and row["ended"] == 15
    # 14 of 15 in 0.25 to 0.5 s: the median falls there; p99 in the 10 to 30 s bucket.
    assert 0.25 <= row["p50"] <= 0.5 and 10 <= row["p99"] <= 30

    week = viewer.get("/dashboards/data?period=week").json()
    assert week["totals"]["started"]["value"] == 122
    assert week["period"]["slot"] == "hour"


def test_steps_link_their_slowest_and_failing_runs(viewer: Client) -> None:
    minute = minute_of(timezone.now())
    StepRollup.objects.create(
        minute=minute,
        workflow="orders",
        step="charge",
        completed=3,
        failed=2,
        slowest_run=41,
        slowest_seconds=12.0,
        failed_run=42,
        d08=5,
    )
    StepRollup.objects.create(
        minute=minute - timedelta(minutes=1),
        workflow="orders",
        step="charge",
        completed=1,
        slowest_run=40,
        slowest_seconds=3.0,
        d01=1,
    )
    StepRollup.objects.create(minute=minute, workflow="orders", step="ship", completed=4, d00=4)
    steps = viewer.get("/dashboards/data?period=day").json()["steps"]
    assert [(r["step"], r["example_run"]) for r in steps["slowest"]] == [
        ("charge", 41),
        ("ship", None),
    ]
    assert [(r["step"], r["failed"], r["example_run"]) for r in steps["failing"]] == [
        ("charge", 2, 42)
    ]
    page = viewer.get("/dashboards/?period=day")
    assert page.status_code == 200
    assert b'id="dashboard-initial"' in page.content and b"/runs/0/" in page.content


def test_backlog_and_tasks_are_counted_now(viewer: Client) -> None:
    now = timezone.now()
    pending = Run.objects.create(workflow="orders", version="1", status="pending", created_at=now)
    Run.objects.create(workflow="billing", version="1", status="pending", created_at=now)
    HumanTask.objects.create(
        run=pending,
        step_name="approve",
        kind="approval",
        title="Approve",
        created_at=now,
        due_at=now - timedelta(hours=1),
    )
    HumanTask.objects.create(
        run=pending, step_name="review", kind="review", title="Review", created_at=now
    )
    nightly = Schedule.objects.create(
        name="nightly", workflow="orders", interval_seconds=60, created_at=now, updated_at=now
    )
    for minutes, outcome in [(5, "started"), (6, "missed"), (7, "skipped"), (90, "started")]:
        moment = now - timedelta(minutes=minutes)
        ScheduleFire.objects.create(
            schedule=nightly, scheduled_for=moment, fired_at=moment, outcome=outcome
        )
    data = viewer.get("/dashboards/data?period=hour").json()
    assert data["queue"]["backlog"] == 2
    assert data["tasks"] == {"open": 2, "overdue": 1}
    assert data["schedules"] == {"fired": 2, "missed": 1}
    assert viewer.get("/dashboards/data?workflow=billing").json()["schedules"]["fired"] == 0
    assert viewer.get("/dashboards/data?workflow=orders").json()["queue"]["backlog"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=year", "period"),
        ("period=custom&to=2026-12-01T00:00", "from"),
        ("period=custom&from=yesterday&to=2026-12-01T00:00", "from"),
        ("period=custom&from=2026-12-02T00:00&to=2026-12-01T00:00", "to"),
        ("period=custom&from=2025-01-01T00:00&to=2026-12-01T00:00", "to"),
        ("workflow=" + "x" * 101, "workflow"),
    ],
)
def test_bad_input_names_the_field(viewer: Client, query: str, field: str) -> None:
    response = viewer.get(f"/dashboards/data?{query}")
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["detail"].startswith(f"{field}: ")
    assert viewer.get(f"/dashboards/?{query}").status_code == 422


def test_a_custom_period_sums_only_its_minutes(viewer: Client) -> None:
    rollup(10, "orders", started=2)
    rollup(200, "orders", started=7)
    start = (timezone.now() - timedelta(minutes=300)).strftime("%Y-%m-%dT%H:%M")
    end = (timezone.now() - timedelta(minutes=100)).strftime("%Y-%m-%dT%H:%M")
    data = viewer.get(f"/dashboards/data?period=custom&from={start}&to={end}").json()
    assert data["totals"]["started"]["value"] == 7
    # Minutes older than two hours are merged into hours: the chart counts per hour there.
    assert data["period"]["slot"] == "hour"
    assert viewer.get("/dashboards/data?period=hour").json()["period"]["slot"] == "minute"


def test_no_role_is_refused_and_anonymous_must_log_in(client: Client, make_user: Any) -> None:
    anonymous = client.get("/dashboards/data")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    client.force_login(make_user("nora"))
    assert client.get("/dashboards/data").status_code == 403
    assert client.get("/dashboards/").status_code == 403


def test_the_overview_shows_the_last_hour_to_those_who_may_view(
    viewer: Client, client: Client, make_user: Any
) -> None:
    rollup(3, "orders", started=6, completed=5, failed=1)
    rollup(70, "orders", started=3)
    page = viewer.get("/").content.decode()
    assert 'data-testid="last-hour"' in page
    assert "+100.0% vs the hour before" in page and '<strong class="tile-value">6</strong>' in page
    client.force_login(make_user("nora"))
    assert 'data-testid="last-hour"' not in client.get("/").content.decode()
