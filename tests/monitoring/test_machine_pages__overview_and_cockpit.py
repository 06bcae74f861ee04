"""The machine pages on a real worker: a machine's overview counts its instances by state, and
an instance's cockpit shows its state, the events it allows (a blocked one with its guard's
reason) and its history; an operator sends events from it, a viewer only watches."""

from typing import Any

import pytest
from django.test import Client

from engine.machines.instances import create_instance, send_event
from engine.models import MachineEvent, MachineInstance
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def logged_in(make_user: Any, name: str, role: str) -> Client:
    client = Client()
    client.force_login(make_user(name, role))
    return client


def order(key: str, **context: Any) -> MachineInstance:
    instance = create_instance("order", key, context)
    wait_applied(instance.pk)
    return instance


def page(client: Client, instance: MachineInstance) -> str:
    response = client.get(f"/machines/order/instances/{instance.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_cockpit_shows_allowed_and_blocked_events_and_sends_them(make_user: Any) -> None:
    operator = logged_in(make_user, "olga", "operators")
    empty = order("order-empty")
    shown = page(operator, empty)
    assert 'data-testid="instance-state">draft<' in shown
    # The submit guard needs items: the button is disabled and says why.
    assert 'data-testid="event-submit"' in shown
    assert "size(context.items) &gt; 0" in shown and "is false" in shown

    full = order("order-full", items=[{"sku": "lamp"}])
    sent = operator.post(
        f"/machines/order/instances/{full.pk}/events",
        {"event": "submit", "data_name": ["note", "rush"], "data_value": ["gift", "true"]},
    )
    assert sent.status_code == 302
    wait_applied(full.pk)
    submitted = MachineEvent.objects.get(instance=full, name="submit")
    assert submitted.data == {"note": "gift", "rush": True}
    assert submitted.actor is not None and submitted.actor.username == "olga"
    after = page(operator, full)
    assert 'data-testid="instance-state">pending<' in after
    assert "draft → pending" in after

    # A mistake is named and sends nothing.
    bad = operator.post(f"/machines/order/instances/{full.pk}/events", {"event": "no such!"})
    assert bad.status_code == 302
    assert "event:" in page(operator, full)
    assert MachineEvent.objects.filter(instance=full).count() == 2  # @start and submit


def test_a_viewer_watches_but_cannot_send(make_user: Any) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    instance = order("order-v", items=[{"sku": "lamp"}])
    shown = page(viewer, instance)
    assert "an operator sends its events" in shown
    refused = viewer.post(f"/machines/order/instances/{instance.pk}/events", {"event": "submit"})
    assert refused.status_code == 403
    assert MachineEvent.objects.filter(instance=instance, name="submit").count() == 0
    assert viewer.get(f"/machines/other/instances/{instance.pk}/").status_code == 404
    partial = viewer.get(
        f"/machines/order/instances/{instance.pk}/", headers={"HX-Request": "true"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="instance-live"')


def test_the_overview_counts_instances_by_state(make_user: Any) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    for n in range(3):
        order(f"order-{n}")
    moving = order("order-moving", items=[{"sku": "lamp"}])
    send_event(moving.pk, "submit")
    wait_applied(moving.pk)
    shown = viewer.get("/machines/order/").content.decode()
    assert 'data-testid="count-draft">3<' in shown
    assert 'data-testid="count-pending">1<' in shown
    assert 'data-testid="count-completed">0<' in shown  # every state, zeros too
    assert "<code>submit</code>" in shown  # the last day's transitions
    filtered = viewer.get("/machines/order/?state=pending").content.decode()
    assert "order-moving" in filtered and "order-1" not in filtered
    assert viewer.get("/machines/nothing-here/").status_code == 404
    assert "/machines/order/" in viewer.get("/machines/").content.decode()


def test_an_operator_creates_an_instance_from_the_overview(make_user: Any) -> None:
    operator = logged_in(make_user, "olga", "operators")
    form = {"key": "order-new", "context_name": ["items", "rush"]}
    created = operator.post(
        "/machines/order/instances", {**form, "context_value": ['[{"sku": "lamp"}]', "true"]}
    )
    instance = MachineInstance.objects.get(machine="order", key="order-new")
    assert created["Location"] == f"/machines/order/instances/{instance.pk}/"
    assert instance.context == {"items": [{"sku": "lamp"}], "rush": True}

    again = operator.post("/machines/order/instances", {"key": "order-new"})
    assert again.status_code == 302
    assert (
        "already" in page(operator, instance)
        or "key:" in operator.get("/machines/order/").content.decode()
    )
    assert MachineInstance.objects.filter(machine="order", key="order-new").count() == 1
    blank = operator.post("/machines/order/instances", {"key": ""})
    assert blank.status_code == 302
    assert operator.post("/machines/nothing/instances", {"key": "x"}).status_code == 404

    viewer = logged_in(make_user, "vera", "viewers")
    assert "New instance" not in viewer.get("/machines/order/").content.decode()
    assert viewer.post("/machines/order/instances", {"key": "v-1"}).status_code == 403
    assert not MachineInstance.objects.filter(key="v-1").exists()
