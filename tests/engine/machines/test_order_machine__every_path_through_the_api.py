"""The seed's order machine (a code machine) runs every path through the HTTP API on a real
worker: guards refuse with their reason, refusals name state and allowed events, the 30-day
return window is read from the context, event ids make sending idempotent, and events sent
to the engine reach the instance keyed by their payload."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.models import ApiToken
from engine.inbound.events import deliver_event
from engine.messaging.signals import instance_changed
from engine.models import MachineEvent
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


@pytest.fixture
def api(client: Any, make_user: Any) -> Any:
    """call(method, path, body) as an operator with a bearer token."""
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        return getattr(client, method)(
            path, body or {}, content_type="application/json", headers=headers
        )

    return call


ITEMS = {"items": [{"sku": "lamp", "quantity": 1}]}


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def create(api: Any, key: str, context: dict[str, Any]) -> int:
    response = api("post", "/api/machines/order/instances", {"key": key, "context": context})
    assert response.status_code == 201, response.content
    wait_applied(response.json()["id"])
    return int(response.json()["id"])


def send(api: Any, instance: int, event: str, **data: Any) -> dict[str, Any]:
    response = api("post", f"/api/instances/{instance}/events", {"event": event, "data": data})
    assert response.status_code == 202, response.content
    wait_applied(instance)
    found = api("get", f"/api/instances/{instance}").json()
    return next(item for item in found["history"] if item["id"] == response.json()["id"])


def state(api: Any, instance: int) -> dict[str, Any]:
    return dict(api("get", f"/api/instances/{instance}").json())


def test_submit_pay_fulfill_and_return_within_thirty_days(api: Any) -> None:
    order = create(api, "order-1", ITEMS)
    started = state(api, order)
    assert (started["state"], started["version"]) == ("draft", 0)
    assert started["history"][0]["name"] == "@start"
    assert [a["event"] for a in started["allowed_events"]] == ["submit", "cancel"]

    assert send(api, order, "submit")["to_state"] == "pending"
    paid = send(api, order, "pay", paymentId="pay-77")
    assert (paid["from_state"], paid["to_state"]) == ("pending", "processing")
    assert [(a["phase"], a["type"]) for a in paid["actions"]] == [
        ("transition", "process-payment"),
        ("entry", "notify-customer"),
    ]
    send(api, order, "fulfill", completedAt=days_ago(29))
    allowed = state(api, order)["allowed_events"]
    assert [(a["event"], a["allowed"]) for a in allowed] == [("return", True)]
    returned = send(api, order, "return")
    assert returned["status"] == "applied"

    final = state(api, order)
    assert (final["state"], final["status"]) == ("returned", "final")
    assert final["context"]["paymentId"] == "pay-77"
    assert final["context"]["refunded"] is True
    assert final["allowed_events"] == []
    assert [e["name"] for e in final["history"]] == ["@start", "submit", "pay", "fulfill", "return"]


def test_guards_and_missing_transitions_are_refused_with_their_reason(api: Any) -> None:
    order = create(api, "order-2", {"items": []})
    refused = send(api, order, "submit")
    assert refused["status"] == "refused"
    assert refused["guard"] == "size(context.items) > 0"
    assert "cannot `submit` from `draft`" in refused["reason"]
    nothing = send(api, order, "pay")
    assert nothing["reason"] == "cannot `pay` from `draft`; allowed: cancel, submit"
    assert send(api, order, "cancel")["to_state"] == "cancelled"
    after_end = send(api, order, "submit")
    assert after_end["reason"] == "cannot `submit` from `cancelled`; allowed: nothing (it is final)"
    assert state(api, order)["state"] == "cancelled"


def test_fail_retry_and_a_return_on_day_31_is_refused(api: Any) -> None:
    order = create(api, "order-3", ITEMS)
    for event in ("submit", "pay", "fail", "retry"):
        assert send(api, order, event)["status"] == "applied"
    assert state(api, order)["state"] == "processing"
    send(api, order, "fulfill", completedAt=days_ago(31))
    allowed = state(api, order)["allowed_events"]
    assert [(a["event"], a["allowed"]) for a in allowed] == [("return", False)]
    assert "is false" in allowed[0]["reason"]
    refused = send(api, order, "return")
    assert refused["status"] == "refused"
    assert "timestamp(context.completed_at)" in refused["guard"]
    assert state(api, order)["state"] == "completed"


def test_a_repeated_event_id_changes_nothing(api: Any) -> None:
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **announced: Any) -> None:
        heard.append(announced)

    instance_changed.connect(listen)
    try:
        order = create(api, "order-4", ITEMS)
    finally:
        instance_changed.disconnect(listen)
    assert heard[0] == {
        "instance_id": order,
        "machine": "order",
        "state": "draft",
        "status": "active",
        "signal": instance_changed,
    }
    body = {"event": "submit", "id": "client-1"}
    first = api("post", f"/api/instances/{order}/events", body)
    again = api("post", f"/api/instances/{order}/events", {**body, "event": "cancel"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["name"] == "submit"
    wait_applied(order)
    assert MachineEvent.objects.filter(instance_id=order, event_id="client-1").count() == 1
    assert state(api, order)["state"] == "pending"


def test_engine_events_reach_the_instance_by_key(api: Any) -> None:
    order = create(api, "order-5", ITEMS)
    deliver_event("Order.submitted", {"orderId": "order-5"}, event_id="ev-1")
    deliver_event("Order.submitted", {"orderId": "order-5"}, event_id="ev-1")  # a duplicate
    deliver_event("Order.paid", {"orderId": "order-6", "paymentId": "other"}, event_id="ev-2")
    wait_applied(order, count=2)
    found = state(api, order)
    assert found["state"] == "pending"
    assert [(e["name"], e["source"]) for e in found["history"]] == [
        ("@start", "engine"),
        ("submit", "event"),
    ]


def test_bad_requests_name_the_field_and_change_nothing(api: Any, make_user: Any) -> None:
    assert api("post", "/api/machines/nope/instances", {"key": "a"}).status_code == 404
    assert api("get", "/api/machines/nope/instances").status_code == 404
    missing = api("post", "/api/machines/order/instances", {"context": {}})
    assert missing.status_code == 422
    assert "key" in str(missing.json())
    order = create(api, "order-7", ITEMS)
    duplicate = api("post", "/api/machines/order/instances", {"key": "order-7"})
    assert (duplicate.status_code, duplicate.json()["field"]) == (409, "key")
    bad_name = api("post", f"/api/instances/{order}/events", {"event": "no such!"})
    assert (bad_name.status_code, bad_name.json()["field"]) == (422, "event")
    assert api("post", "/api/instances/999999/events", {"event": "submit"}).status_code == 404
    assert api("get", "/api/instances/999999").status_code == 404
    listed = api("get", "/api/machines/order/instances?state=draft").json()
    assert [item["key"] for item in listed] == ["order-7"]
    assert api("get", "/api/machines/order/instances?min_seconds_in_state=3600").json() == []
    assert MachineEvent.objects.filter(instance_id=order).count() == 1


def test_a_viewer_reads_but_cannot_send(client: Any, make_user: Any, api: Any) -> None:
    order = create(api, "order-8", ITEMS)
    _, raw = ApiToken.issue(make_user("vic", "viewers"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"/api/instances/{order}", headers=headers).status_code == 200
    refused = client.post(
        f"/api/instances/{order}/events",
        {"event": "submit"},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 403
