"""Each trigger kind end to end on a real worker and timer loop: an event posted to the API
starts a code workflow and a published graph once each (the same id posted again starts
nothing), an event emitted by a code or graph workflow starts its subscriber, a burst of
events with one debounce key starts one run with the last event, and a run started for later
starts after its time or is cancelled before it."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from designer.drafts import create_workflow, publish
from engine.models import DebounceSlot, Event, Run, Timer
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("otis", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def post(client: Client, path: str, headers: dict[str, str], body: Any) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def publish_graph(slug: str, document: dict[str, Any]) -> None:
    created, problems = create_workflow(slug=slug, title=slug, user=None, graph=document)
    assert problems == []
    publish(created, None)


def test_an_event_starts_a_code_and_a_graph_workflow_once(
    client: Client, operator: dict[str, str]
) -> None:
    publish_graph(
        "test-graph-parcel",
        graph(
            [
                ("start", "trigger.event", {"event_types": ["Parcel.registered"]}),
                ("out", "flow.end", {"output": {"graph": "{{ input.id }}"}}),
            ],
            ["start>out"],
        ),
    )
    event = {"type": "Parcel.registered", "payload": {"id": "p-42"}, "id": "parcel-42"}
    first = post(client, "/api/events", operator, event)
    again = post(client, "/api/events", operator, event)
    assert first.status_code == again.status_code == 202
    assert len(first.json()["started_runs"]) == 2
    assert (again.json()["created"], again.json()["started_runs"]) == (False, [])
    runs = {run.workflow: run for run in Run.objects.filter(trigger_ref="parcel-42")}
    assert sorted(runs) == ["test-graph-parcel", "test-on-parcel"]
    assert wait_for_status(runs["test-on-parcel"], "completed").output == {"parcel": "p-42"}
    assert wait_for_status(runs["test-graph-parcel"], "completed").output == {"graph": "p-42"}
    assert Run.objects.count() == 2


def test_events_emitted_by_workflows_start_their_subscribers(
    client: Client, operator: dict[str, str]
) -> None:
    publish_graph(
        "test-graph-emitter",
        graph(
            [
                ("start", "trigger.manual"),
                ("send", "action.emit", {"type": "Parcel.shipped", "payload": {"id": "g-1"}}),
                ("out", "flow.end", {"output": "{{ nodes.send.output.id }}"}),
            ],
            ["start>send", "send>out"],
        ),
    )
    code = Run.objects.get(
        pk=post(
            client, "/api/workflows/test-emitter/runs", operator, {"input": {"id": "c-1"}}
        ).json()["id"]
    )
    drawn = Run.objects.get(
        pk=post(client, "/api/workflows/test-graph-emitter/runs", operator, {}).json()["id"]
    )
    code_event = wait_for_status(code, "completed").output["emitted"]
    graph_event = wait_for_status(drawn, "completed").output
    started = {
        run.trigger_ref: wait_for_status(run, "completed").output
        for run in Run.objects.filter(workflow="test-on-shipped")
    }
    assert started == {code_event: "shipped c-1", graph_event: "shipped g-1"}
    assert code_event.startswith(f"stepwise:{code.pk}:")


def test_a_burst_with_one_debounce_key_starts_one_run_with_the_last_event(
    client: Client, operator: dict[str, str]
) -> None:
    for version in (1, 2, 3):
        event = {"type": "Catalog.updated", "payload": {"sku": "A", "version": version}}
        assert post(client, "/api/events", operator, event).status_code == 202
    post(client, "/api/events", operator, {"type": "Catalog.updated", "payload": {"sku": "B"}})
    assert not Run.objects.exists()
    wait_until(
        lambda: (
            Run.objects.filter(workflow="test-reindex").count() == 2
            and not DebounceSlot.objects.exists()
        ),
        timeout=15,
        what="the debounced runs to start",
    )
    outputs = sorted(
        (wait_for_status(run, "completed").output["sku"], run.output, run.trigger)
        for run in Run.objects.filter(workflow="test-reindex")
    )
    assert outputs == [
        ("A", {"sku": "A", "version": 3}, "debounce"),
        ("B", {"sku": "B"}, "debounce"),
    ]


def test_a_run_started_for_later_starts_then_or_is_cancelled_before(
    client: Client, operator: dict[str, str]
) -> None:
    path = "/api/workflows/test-basket-reminder/runs"
    soon = (timezone.now() + timedelta(seconds=1)).isoformat()
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    run = post(client, path, operator, {"input": {"basket": "b"}, "start_at": soon}).json()
    parked = post(client, path, operator, {"input": {"basket": "b"}, "start_at": later}).json()
    assert (run["status"], parked["status"]) == ("scheduled", "scheduled")
    assert run["scheduled_for"] is not None
    cancelled = client.post(f"/api/runs/{parked['id']}/cancel", headers=operator)
    assert cancelled.json()["status"] == "cancelled"
    assert not Timer.objects.filter(run_id=parked["id"]).exists()
    started = time.monotonic()
    finished = wait_for_status(Run.objects.get(pk=run["id"]), "completed")
    assert finished.started_at is not None and finished.scheduled_for is not None
    assert finished.started_at >= finished.scheduled_for
    assert time.monotonic() - started < 15
    assert Run.objects.get(pk=parked["id"]).started_at is None


def test_start_at_must_be_in_the_future_with_a_time_zone(
    client: Client, operator: dict[str, str]
) -> None:
    path = "/api/workflows/test-basket-reminder/runs"
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    naive = (timezone.now() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    for start_at, message in [
        (past, "start_at: must be in the future"),
        (naive, "start_at: give the time zone offset"),
    ]:
        refused = post(client, path, operator, {"input": {"basket": "b"}, "start_at": start_at})
        assert refused.status_code == 422
        assert message in refused.json()["detail"]
    garbled = post(client, path, operator, {"input": {"basket": "b"}, "start_at": "tomorrow"})
    assert garbled.status_code == 422
    assert "start_at" in str(garbled.json())
    assert not Run.objects.exists()


def test_a_subscription_can_start_its_run_later(client: Client, operator: dict[str, str]) -> None:
    event = {"type": "Basket.abandoned", "payload": {"id": "b-1"}, "id": "basket-1"}
    started = post(client, "/api/events", operator, event).json()["started_runs"]
    runs = {
        run.input["reminder"]: run
        for run in Run.objects.filter(pk__in=started, workflow="test-basket-reminder")
    }
    assert sorted(runs) == [1, 2]
    assert wait_for_status(runs[1], "completed").output == {"basket": "b-1", "reminder": 1}
    assert Run.objects.get(pk=runs[2].pk).status == "scheduled"


def test_a_workflow_that_triggers_itself_stops_at_the_event_chain_limit(
    client: Client, operator: dict[str, str]
) -> None:
    """Each run emits the event that started it; the chain ends at STEPWISE_EVENT_CHAIN_LIMIT."""
    limit = settings.STEPWISE_EVENT_CHAIN_LIMIT
    publish_graph(
        "test-graph-echo",
        graph(
            [
                ("start", "trigger.event", {"event_types": ["Echo.drawn"]}),
                ("again", "action.emit", {"type": "Echo.drawn", "payload": {}}),
            ],
            ["start>again"],
        ),
    )
    post(client, "/api/events", operator, {"type": "Echo.heard", "payload": {"hop": 0}})
    post(client, "/api/events", operator, {"type": "Echo.drawn", "payload": {}})

    def chain_ended(event_type: str, workflow: str) -> bool:
        deepest = Event.objects.filter(type=event_type, depth=limit + 1).exists()
        runs = Run.objects.filter(workflow=workflow)
        return deepest and not runs.exclude(status="completed").exists()

    for event_type, workflow in [("Echo.heard", "test-echo"), ("Echo.drawn", "test-graph-echo")]:
        wait_until(
            lambda t=event_type, w=workflow: chain_ended(t, w), timeout=60, what=f"{workflow} chain"
        )
        # One run per event of depth 0 to limit; the deepest event started none.
        assert Run.objects.filter(workflow=workflow).count() == limit + 1
        depths = Event.objects.filter(type=event_type).values_list("depth", flat=True)
        assert sorted(depths) == list(range(limit + 2))
    history = client.get("/api/events?type=Echo.heard&limit=1", headers=operator).json()
    assert history[0]["depth"] == limit + 1
    assert history[0]["started_runs"] == []
    time.sleep(1)
    assert Run.objects.filter(workflow="test-echo").count() == limit + 1
