"""The canvas order machine, published as load_demo publishes it, runs on a real worker through
the instance API: every action a node type the engine runs, the return window counted from
the completion its own action records, and a declined card failing the event, not the order."""

from typing import Any

import pytest

from accounts.models import ApiToken
from designer.demo_machines import ORDER_MACHINE
from engine.demos.graph_actions import DECLINED_CARD
from engine.machines.publishing import publish_machine
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

SLUG = ORDER_MACHINE.slug


@pytest.fixture
def api(client: Any, make_user: Any) -> Any:
    publish_machine(SLUG, ORDER_MACHINE.title, ORDER_MACHINE.definition)
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        return getattr(client, method)(
            path, body or {}, content_type="application/json", headers=headers
        )

    return call


def order(api: Any, key: str, card: str = "4242") -> int:
    context = {"id": key, "items": [{"sku": "lamp"}], "total": 80, "card": card, "customer": "c1"}
    created = api("post", f"/api/machines/{SLUG}/instances", {"key": key, "context": context})
    assert created.status_code == 201, created.content
    wait_applied(created.json()["id"])
    return int(created.json()["id"])


def send(api: Any, instance: int, event: str) -> dict[str, Any]:
    sent = api("post", f"/api/instances/{instance}/events", {"event": event, "data": {}})
    assert sent.status_code == 202, sent.content
    wait_applied(instance)
    history = api("get", f"/api/instances/{instance}").json()["history"]
    return next(item for item in history if item["id"] == sent.json()["id"])


def test_the_canvas_order_goes_from_draft_to_returned(api: Any) -> None:
    instance = order(api, "canvas-1")
    assert send(api, instance, "submit")["to_state"] == "pending"
    paid = send(api, instance, "pay")
    assert (paid["status"], paid["to_state"]) == ("applied", "processing")
    fulfilled = send(api, instance, "fulfill")
    assert fulfilled["to_state"] == "completed", (
        fulfilled["status"],
        fulfilled["reason"],
        fulfilled["actions"],
    )
    now = api("get", f"/api/instances/{instance}").json()
    assert now["context"]["completed_at"]  # recorded by its own action, read by the guard
    assert [(a["event"], a["allowed"]) for a in now["allowed_events"]] == [("return", True)]
    assert send(api, instance, "return")["to_state"] == "returned"
    assert api("get", f"/api/instances/{instance}").json()["status"] == "final"


def test_a_declined_card_fails_the_event_and_the_order_stays_pending(api: Any) -> None:
    instance = order(api, "canvas-2", card=DECLINED_CARD)
    send(api, instance, "submit")
    paid = send(api, instance, "pay")
    assert paid["status"] == "failed"
    after = api("get", f"/api/instances/{instance}").json()
    assert after["state"] == "pending"
    assert send(api, instance, "cancel")["to_state"] == "cancelled"
