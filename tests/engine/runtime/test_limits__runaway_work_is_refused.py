"""Runaway work ends with an error naming the limit and its setting, and starts nothing more:
a graph that starts itself as a child stops at STEPWISE_MAX_CHILD_DEPTH, a run starting child
after child stops at STEPWISE_MAX_CHILDREN_PER_RUN (both on a real worker), and runs of one
workflow beyond STEPWISE_MAX_RUNS_PER_MINUTE are created failed, never run, and show as refused
in the schedule's fires and the event history."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from designer.drafts import create_workflow, publish
from engine.inbound.events import deliver_event, event_history
from engine.inbound.schedules import run_now
from engine.machines.instances import create_instance
from engine.models import FireOutcome, Run, Schedule, ScheduleFire
from engine.runtime.limits import REFUSED
from engine.runtime.runs import start_run
from tests.engine.graph.graphs import graph
from tests.processes import RunningProcess

LIMIT_ERROR = "engine.runtime.limits.RunLimitExceeded"


def wait_for_end(run: Run, timeout: float = 60) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_terminal:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run.pk} is still {run.status}")


def publish_graph(slug: str, document: dict[str, Any]) -> None:
    created, problems = create_workflow(slug=slug, title=slug, user=None, graph=document)
    assert problems == []
    publish(created, None)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_graph_that_starts_itself_stops_at_the_depth_limit(
    celery_worker: RunningProcess,
) -> None:
    slug = "test-graph-itself"
    publish_graph(
        slug,
        graph(
            [
                ("start", "trigger.manual"),
                ("again", "flow.subworkflow", {"workflow": slug, "input": {}}),
                ("end", "flow.end", {"output": "never"}),
            ],
            ["start>again", "again>end"],
        ),
    )
    top = wait_for_end(start_run(slug, {}))
    limit = settings.STEPWISE_MAX_CHILD_DEPTH
    runs = list(Run.objects.filter(workflow=slug).order_by("depth"))
    assert [run.depth for run in runs] == list(range(limit + 1))
    deepest = wait_for_end(runs[-1])
    assert deepest.status == "failed"
    assert deepest.error is not None and deepest.error["type"] == LIMIT_ERROR
    assert f"{limit + 1} levels deep" in deepest.error["message"]
    assert f"STEPWISE_MAX_CHILD_DEPTH={limit}" in deepest.error["message"]
    assert top.status == "failed"  # each parent fails with its child
    assert all(wait_for_end(run).status == "failed" for run in runs)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_run_starting_children_in_a_loop_stops_at_the_fan_out_limit(
    celery_worker: RunningProcess,
) -> None:
    limit = settings.STEPWISE_MAX_CHILDREN_PER_RUN
    parent = wait_for_end(start_run("test-fan-out", {"children": limit + 5}))
    assert parent.status == "failed"
    assert parent.error is not None and parent.error["type"] == LIMIT_ERROR
    assert f"STEPWISE_MAX_CHILDREN_PER_RUN={limit}" in parent.error["message"]
    children = Run.objects.filter(trigger_ref=f"detached from run {parent.pk}")
    assert children.count() == limit  # the refused one and those after it never started


@pytest.mark.django_db
def test_a_burst_of_starts_beyond_the_rate_is_created_failed_and_never_runs(
    settings: Any,
) -> None:
    settings.STEPWISE_MAX_RUNS_PER_MINUTE = 5
    runs = [start_run("test-sequence", {"steps": 1}, idempotency_key=f"k{n}") for n in range(8)]
    assert [run.status for run in runs] == ["pending"] * 5 + ["failed"] * 3
    refused = runs[-1]
    assert refused.error is not None and refused.error["type"] == REFUSED
    assert "STEPWISE_MAX_RUNS_PER_MINUTE=5" in refused.error["message"]
    assert refused.dispatched_at is None and refused.idempotency_key is None
    # Refusals do not fill the window; another workflow has a window of its own.
    assert start_run("test-sequence", {"steps": 1}).status == "failed"
    assert start_run("test-sleep", {"seconds": 1}).status == "pending"
    # Once the minute has passed, the workflow starts again.
    Run.objects.filter(workflow="test-sequence").update(
        created_at=refused.created_at - timedelta(seconds=61)
    )
    assert start_run("test-sequence", {"steps": 1}).status == "pending"


@pytest.mark.django_db
def test_children_and_machine_events_are_not_counted_by_the_rate(settings: Any) -> None:
    """Children have limits of their own; a machine's event runs apply events an instance has
    already received, and refusing one would strand its queue."""
    settings.STEPWISE_MAX_RUNS_PER_MINUTE = 1
    for n in range(3):  # each instance's start is a run of the engine's event workflow
        create_instance("test-toggle", f"rated-{n}", {})
    applying = Run.objects.filter(trigger="machine")
    assert applying.count() == 3
    assert not applying.filter(status="failed").exists()
    parent = start_run("test-sequence", {"steps": 1})
    children = [
        start_run("test-sleep", {"seconds": 1}, trigger="child", parent=parent) for _ in range(3)
    ]
    assert [child.status for child in children] == ["pending"] * 3


@pytest.mark.django_db
def test_schedule_fires_and_events_over_the_rate_show_the_refusal(settings: Any) -> None:
    settings.STEPWISE_MAX_RUNS_PER_MINUTE = 1
    schedule = Schedule.objects.create(
        name="often",
        workflow="test-sequence",
        interval_seconds=1,
        input={"steps": 1},
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    assert run_now(schedule).status == "pending"
    assert run_now(schedule).status == "failed"
    outcomes = ScheduleFire.objects.filter(schedule=schedule).order_by("id")
    assert [fire.outcome for fire in outcomes] == [FireOutcome.STARTED, FireOutcome.REFUSED]

    publish_graph(
        "test-graph-rated",
        graph(
            [
                ("start", "trigger.event", {"event_types": ["Rate.tested"]}),
                ("out", "flow.end", {"output": "{{ input }}"}),
            ],
            ["start>out"],
        ),
    )
    deliver_event("Rate.tested", {"n": 1}, event_id="rate-1")
    deliver_event("Rate.tested", {"n": 2}, event_id="rate-2")
    history = {entry["id"]: entry["started_runs"] for entry in event_history()}
    assert [run["status"] for run in history["rate-1"]] == ["pending"]
    assert [run["status"] for run in history["rate-2"]] == ["failed"]
