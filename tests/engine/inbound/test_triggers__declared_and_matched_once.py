"""Event triggers without a worker: `on` refuses bad declarations when they are made, event
names must be Noun.verb, a new event starts each subscribed workflow once (a duplicate id starts
nothing), filters and input functions apply, published graphs subscribe and deleted ones stop,
and the event history lists the runs each event started.

The runs are created but not executed here (nothing is committed to a broker in these tests);
tests/engine/inbound/test_triggers__run_on_a_worker.py runs them.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from designer.drafts import create_workflow, delete_workflow, publish
from engine.core import DefinitionError, on
from engine.core.triggers import all_subscriptions
from engine.inbound.events import EventInputError, deliver_event, event_history
from engine.inbound.triggers import event_run_key
from engine.models import DebounceSlot, EventTrigger, Run, RunStatus, Timer
from tests.engine import trigger_flows
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


def graph_on(event_types: list[str], **config: Any) -> dict[str, Any]:
    return graph(
        [
            ("start", "trigger.event", {"event_types": event_types, **config}),
            ("out", "flow.end", {"output": "{{ input }}"}),
        ],
        ["start>out"],
    )


def publish_graph(slug: str, document: dict[str, Any]) -> None:
    created, problems = create_workflow(slug=slug, title=slug, user=None, graph=document)
    assert problems == []
    publish(created, None)


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("eve", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


# --- declarations ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda: on.order.created, "'order.created' is not a Noun.verb event type"),
        (lambda: on.Order.Created, "'Order.Created' is not a Noun.verb event type"),
        (lambda: on("Order_created"), "is not a Noun.verb event type"),
        (lambda: on(), "needs at least one event type"),
        (lambda: on.Order.created(filter="event.total >"), "filter: "),
        (lambda: on.Order.created(debounce=0), "debounce must be positive"),
        (lambda: on.Order.created(key="event.id"), "key= is the debounce key"),
        (lambda: on.Order.created(debounce=5, key="event."), "key: "),
        (lambda: on.Order.created(debounce=5, delay=5), "cannot be combined"),
        (lambda: on.Order.created(retries=3), "unknown option(s) retries"),
        (lambda: on.Order.created(lambda order: order), "put it above @workflow"),
        (lambda: on.Order.created(42), "decorates a workflow or a function"),
        (lambda: on.Order.created(start=42), "start= takes a workflow or its slug"),
    ],
)
def test_bad_declarations_fail_when_declared(declare: Any, message: str) -> None:
    before = len(all_subscriptions())
    with pytest.raises(DefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        declare()
    assert len(all_subscriptions()) == before


def test_a_decorated_workflow_is_returned_unchanged_and_subscribed() -> None:
    # Gadget.assembled is delivered by no test, so the subscription added here starts nothing.
    declared = trigger_flows.basket_reminder
    assert on.Gadget.assembled(filter="event.ok")(declared) is declared
    found = [s for s in all_subscriptions() if s.event_types == ("Gadget.assembled",)]
    assert [(s.workflow, s.filter, s.name) for s in found] == [
        ("test-basket-reminder", "event.ok", "")
    ]
    with pytest.raises(DefinitionError, match="here the workflow 'test-basket-reminder'"):
        on.Gadget.assembled(start="other")(declared)


def test_event_names_must_be_noun_verb(client: Client, operator: dict[str, str]) -> None:
    with pytest.raises(EventInputError, match=r"type: 'order_created' is not a Noun\.verb"):
        deliver_event("order_created", {})
    refused = client.post(
        "/api/events",
        {"type": "order.created", "payload": {}},
        content_type="application/json",
        headers=operator,
    )
    assert refused.status_code == 422
    assert "Noun.verb" in refused.json()["detail"]


# --- matching -------------------------------------------------------------------------------
def test_a_new_event_starts_each_subscriber_once_and_a_duplicate_nothing() -> None:
    publish_graph("test-graph-on-parcel", graph_on(["Parcel.registered"]))
    first = deliver_event("Parcel.registered", {"id": "p-1"}, event_id="parcel-1")
    again = deliver_event("Parcel.registered", {"id": "p-1"}, event_id="parcel-1")
    runs = Run.objects.filter(trigger="event", trigger_ref="parcel-1").order_by("workflow")
    assert [(run.workflow, run.kind, run.input) for run in runs] == [
        ("test-graph-on-parcel", "graph", {"id": "p-1"}),
        ("test-on-parcel", "code", {"id": "p-1"}),
    ]
    assert sorted(first.started_runs) == sorted(run.pk for run in runs)
    assert (again.created, again.started_runs) == (False, [])
    assert {run.idempotency_key for run in runs} == {event_run_key("parcel-1")}


def test_filters_choose_the_events_that_start_a_run() -> None:
    publish_graph(
        "test-graph-big-parcel", graph_on(["Parcel.priced"], filter="event.total >= 1000")
    )
    deliver_event("Parcel.priced", {"total": 50}, event_id="cheap")
    deliver_event("Parcel.priced", {"total": 500}, event_id="dear")
    deliver_event("Parcel.repriced", {"total": 5000}, event_id="dearer")
    deliver_event("Parcel.priced", {"weight": 3}, event_id="no-total")  # filter fails: no run
    started = sorted(Run.objects.values_list("workflow", "trigger_ref"))
    assert started == [
        ("test-on-expensive-parcel", "dear"),
        ("test-on-expensive-parcel", "dearer"),
    ]
    deliver_event("Parcel.priced", {"total": 1000}, event_id="dearest")
    assert Run.objects.filter(trigger_ref="dearest").count() == 2


def test_input_functions_shape_runs_that_start_later() -> None:
    before = timezone.now()
    delivery = deliver_event("Basket.abandoned", {"id": "b-7"}, event_id="basket-7")
    runs = Run.objects.filter(pk__in=delivery.started_runs).order_by("scheduled_for")
    assert [(run.workflow, run.status, run.input) for run in runs] == [
        ("test-basket-reminder", RunStatus.SCHEDULED, {"basket": "b-7", "reminder": 1}),
        ("test-basket-reminder", RunStatus.SCHEDULED, {"basket": "b-7", "reminder": 2}),
    ]
    first, second = runs
    assert first.scheduled_for is not None and second.scheduled_for is not None
    assert timedelta(seconds=1) <= first.scheduled_for - before < timedelta(seconds=5)
    assert second.scheduled_for - before >= timedelta(hours=24)
    assert Timer.objects.filter(run__in=runs, kind="start").count() == 2
    # Two functions feeding one workflow each start it once: their keys differ.
    assert first.idempotency_key != second.idempotency_key


def test_debounced_subscriptions_keep_the_last_event_per_key() -> None:
    publish_graph(
        "test-graph-reindex",
        graph_on(["Catalog.updated"], debounce={"seconds": 30, "key": "event.sku"}),
    )
    for version in (1, 2, 3):
        deliver_event("Catalog.updated", {"sku": "A", "version": version})
    deliver_event("Catalog.updated", {"sku": "B", "version": 1})
    assert not Run.objects.exists()
    slots = {
        (slot.workflow, slot.key): (slot.input, slot.calls) for slot in DebounceSlot.objects.all()
    }
    assert slots == {
        ("test-reindex", "on:A"): ({"sku": "A", "version": 3}, 3),
        ("test-reindex", "on:B"): ({"sku": "B", "version": 1}, 1),
        ("test-graph-reindex", "start:A"): ({"sku": "A", "version": 3}, 3),
        ("test-graph-reindex", "start:B"): ({"sku": "B", "version": 1}, 1),
    }


def test_the_search_index_demo_is_debounced_by_product_updates() -> None:
    """The seed's search-index example: updates to one entity within 5 s start one re-index."""
    deliver_event("Product.updated", {"entityId": "product-42", "price": 10})
    deliver_event("Product.updated", {"entityId": "product-42", "price": 12})
    slot = DebounceSlot.objects.get(workflow="search-index-update")
    assert (slot.key, slot.input, slot.calls) == (
        "on:product-42",
        {"entityId": "product-42", "price": 12},
        2,
    )
    assert timedelta(seconds=4) < slot.due_at - timezone.now() <= timedelta(seconds=5)


# --- graph subscriptions --------------------------------------------------------------------
def test_publishing_subscribes_the_newest_version_and_deleting_unsubscribes() -> None:
    created, _ = create_workflow(
        slug="test-graph-subs",
        title="Subs",
        user=None,
        graph=graph_on(["Gadget.built", "Gadget.fixed"], filter="event.ok"),
    )
    publish(created, None)
    rows = EventTrigger.objects.filter(workflow="test-graph-subs").order_by("event_type")
    assert [(row.node, row.event_type, row.filter) for row in rows] == [
        ("start", "Gadget.built", "event.ok"),
        ("start", "Gadget.fixed", "event.ok"),
    ]
    created.draft = graph(
        [
            ("start", "trigger.event", {"event_types": ["Gadget.sold"]}),
            ("hook", "trigger.webhook", {"endpoint": "gadget-shop"}),
            ("out", "flow.end", {"output": "{{ input }}"}),
        ],
        ["start>out", "hook>out"],
    )
    created.save(update_fields=["draft"])
    publish(created, None)
    rows = EventTrigger.objects.filter(workflow="test-graph-subs").order_by("event_type")
    assert [(row.node, row.event_type) for row in rows] == [
        ("start", "Gadget.sold"),
        ("hook", "webhook:gadget-shop"),
    ]
    delete_workflow(created)
    assert not EventTrigger.objects.filter(workflow="test-graph-subs").exists()
    deliver_event("Gadget.sold", {})
    assert not Run.objects.exists()


def test_a_bad_debounce_config_is_a_graph_problem() -> None:
    _, problems = create_workflow(
        slug="test-graph-bad-debounce",
        title="Bad",
        user=None,
        graph=graph_on(["Gadget.built"], debounce={"seconds": 0, "key": "event."}),
    )
    fields = sorted(problem.field or "" for problem in problems)
    assert fields == ["config.debounce.key", "config.debounce.seconds"]


# --- history --------------------------------------------------------------------------------
def test_the_event_history_lists_started_runs(client: Client, operator: dict[str, str]) -> None:
    deliver_event("Parcel.registered", {"id": "p-9"}, event_id="parcel-9")
    deliver_event("Gadget.built", {"id": "g-1"}, event_id="gadget-1")
    listed = client.get("/api/events?type=Parcel.registered&limit=5", headers=operator)
    assert listed.status_code == 200
    [event] = listed.json()
    run = Run.objects.get(trigger_ref="parcel-9")
    assert event["id"] == "parcel-9"
    assert event["started_runs"] == [
        {"id": run.pk, "workflow": "test-on-parcel", "status": "pending"}
    ]
    assert event["woken_runs"] == []
    everything = client.get("/api/events", headers=operator).json()
    assert [item["id"] for item in everything] == ["gadget-1", "parcel-9"]
    assert client.get("/api/events?limit=0", headers=operator).status_code == 422


def test_the_event_admin_links_the_runs_an_event_started(admin_client: Client) -> None:
    delivery = deliver_event("Parcel.registered", {"id": "p-3"}, event_id="parcel-3")
    page = admin_client.get(f"/admin/engine/event/{delivery.event.pk}/change/").content.decode()
    [run_id] = delivery.started_runs
    assert f"test-on-parcel #{run_id}</a> (pending)" in page


def test_the_event_history_takes_three_queries(django_assert_num_queries: Any) -> None:
    for number in range(5):
        deliver_event("Parcel.registered", {"id": f"p-{number}"}, event_id=f"many-{number}")
    with django_assert_num_queries(3):
        history = event_history(limit=50)
    assert [len(event["started_runs"]) for event in history] == [1] * 5
