"""Accepted webhook deliveries on a real worker and timer loop: the endpoint's workflow starts
once with its templated input, an endpoint that maps to an event type delivers that event once
(and the event starts its subscriber once), a graph whose trigger.webhook node names the
endpoint starts with the node's input, an operator's replay runs the workflow again once per
replay, and a delivery whose worker message was lost is processed by the sweeper."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from designer.drafts import create_workflow, publish
from engine.inbound.webhook_endpoints import create_endpoint
from engine.models import DeliveryStatus, Event, Run, WebhookDelivery
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.webhook_signing import deliver
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("hana", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def processed(slug: str, delivery_id: str, timeout: float = 15) -> WebhookDelivery:
    def done() -> bool:
        return WebhookDelivery.objects.filter(
            endpoint__slug=slug, delivery_id=delivery_id, status=DeliveryStatus.PROCESSED
        ).exists()

    wait_until(done, timeout=timeout, what=f"delivery {delivery_id} to be processed")
    return WebhookDelivery.objects.get(endpoint__slug=slug, delivery_id=delivery_id)


def test_an_accepted_delivery_starts_the_workflow_once(client: Client) -> None:
    _, secret = create_endpoint(
        "test-shop",
        workflow="test-hook-target",
        input={"order": "{{ event.data.id }}", "amount": "{{ event.data.amount }}"},
    )
    body = {"type": "order.paid", "data": {"id": "o-7", "amount": 12.5}}
    assert deliver(client, "test-shop", secret, body, delivery_id="evt_7").status_code == 202
    assert deliver(client, "test-shop", secret, body, delivery_id="evt_7").status_code == 409
    delivery = processed("test-shop", "evt_7")
    assert delivery.run is not None
    run = wait_for_status(delivery.run, "completed")
    assert run.output == {"got": {"order": "o-7", "amount": 12.5}}
    assert (run.trigger, run.trigger_ref) == ("webhook", "test-shop/evt_7")
    assert Run.objects.count() == 1


def test_a_delivery_mapped_to_an_event_type_starts_its_subscribers_once(client: Client) -> None:
    _, secret = create_endpoint("test-bank", event_type="Remittance.received")
    body = {"reference": "r-1", "amount": 300}
    assert deliver(client, "test-bank", secret, body, delivery_id="tx-1").status_code == 202
    delivery = processed("test-bank", "tx-1")
    event = Event.objects.get()
    assert (event.event_id, event.type, event.source) == (
        "webhook:test-bank:tx-1",
        "Remittance.received",
        "webhook",
    )
    assert delivery.event == event and delivery.run is None
    run = Run.objects.get(trigger="event", trigger_ref=event.event_id)
    assert wait_for_status(run, "completed").output == body
    assert Run.objects.count() == 1


def test_a_graph_trigger_webhook_node_starts_the_graph(client: Client) -> None:
    _, secret = create_endpoint("test-leads")
    drawn, problems = create_workflow(
        slug="test-graph-leads",
        title="Leads",
        user=None,
        graph=graph(
            [
                (
                    "hook",
                    "trigger.webhook",
                    {"endpoint": "test-leads", "input": {"email": "{{ event.lead.email }}"}},
                ),
                ("out", "flow.end", {"output": "{{ input }}"}),
            ],
            ["hook>out"],
        ),
    )
    assert problems == []
    publish(drawn, None)
    lead = {"lead": {"email": "ada@example.com", "name": "Ada"}}
    assert deliver(client, "test-leads", secret, lead, delivery_id="l-1").status_code == 202
    delivery = processed("test-leads", "l-1")
    assert delivery.run is not None
    run = wait_for_status(delivery.run, "completed")
    assert (run.workflow, run.kind, run.output) == (
        "test-graph-leads",
        "graph",
        {"email": "ada@example.com"},
    )


def test_a_replay_runs_the_workflow_again_once_per_replay(
    client: Client, operator: dict[str, str], make_user: Any
) -> None:
    _, secret = create_endpoint(
        "test-replays", workflow="test-hook-target", input={"order": "{{ event.id }}"}
    )
    # Senders' ids may contain slashes; the replay URL still finds the delivery.
    delivery_id = "orders/r-5"
    assert (
        deliver(client, "test-replays", secret, {"id": 5}, delivery_id=delivery_id).status_code
        == 202
    )
    first = processed("test-replays", delivery_id)
    path = f"/api/webhooks/test-replays/deliveries/{delivery_id}/replay"
    _, raw = ApiToken.issue(make_user("vic", "viewers"), "ci")
    assert client.post(path, headers={"Authorization": f"Bearer {raw}"}).status_code == 403
    for number in (1, 2):
        replayed = client.post(path, headers=operator)
        assert replayed.status_code == 202, replayed.json()
        assert replayed.json()["replays"] == number
        wait_until(
            lambda: WebhookDelivery.objects.get(pk=first.pk).status == DeliveryStatus.PROCESSED,
            timeout=15,
            what=f"replay {number} to be processed",
        )
    runs = Run.objects.order_by("id")
    assert [run.trigger_ref for run in runs] == [
        "test-replays/orders/r-5",
        "test-replays/orders/r-5:replay-1",
        "test-replays/orders/r-5:replay-2",
    ]
    assert all(wait_for_status(run, "completed").output == {"got": {"order": 5}} for run in runs)
    listed = client.get("/api/webhooks/test-replays/deliveries", headers=operator).json()
    assert [(item["id"], item["status"], item["replays"]) for item in listed] == [
        (delivery_id, "processed", 2)
    ]
    missing = client.post("/api/webhooks/test-replays/deliveries/nope/replay", headers=operator)
    assert missing.status_code == 404


def test_a_delivery_whose_message_was_lost_is_processed_by_the_sweeper() -> None:
    endpoint, _ = create_endpoint("test-lost", workflow="test-hook-target")
    # Stored as accept_delivery stores it, but without the worker message (a broker restart).
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        delivery_id="lost-1",
        received_at=timezone.now() - timedelta(minutes=1),
        body='{"order": "o-lost"}',
    )
    delivery = processed("test-lost", "lost-1")
    assert delivery.run is not None
    assert wait_for_status(delivery.run, "completed").output == {"got": {"order": "o-lost"}}
