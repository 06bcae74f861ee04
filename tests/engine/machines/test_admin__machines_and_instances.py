"""Machines in the Django admin: versions, instances filtered by state and status with their
events inline, and the events list; all read-only."""

from typing import Any

import pytest
from django.test import Client

from engine.machines.instances import create_instance, send_event
from engine.machines.publishing import publish_machine
from engine.models import MachineInstance

pytestmark = pytest.mark.django_db


def test_instances_are_listed_by_state_with_their_events(make_user: Any) -> None:
    publish_machine(
        "light",
        "Light",
        {
            "initial": "off",
            "states": [{"id": "off"}, {"id": "on"}],
            "transitions": [
                {"id": "flip-on", "source": "off", "event": "flip", "target": "on"},
                {"id": "flip-off", "source": "on", "event": "flip", "target": "off"},
            ],
        },
    )
    lamp = create_instance("light", "lamp-1", {})
    create_instance("light", "lamp-2", {})
    send_event(lamp.pk, "flip", {}, event_id="first-flip")
    MachineInstance.objects.filter(pk=lamp.pk).update(state="on")
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    listed = client.get("/admin/engine/machineinstance/", {"state": "on"})
    assert listed.status_code == 200
    assert b"lamp-1" in listed.content and b"lamp-2" not in listed.content
    detail = client.get(f"/admin/engine/machineinstance/{lamp.pk}/change/")
    assert detail.status_code == 200 and b"flip" in detail.content
    assert client.get("/admin/engine/machineevent/", {"status": "pending"}).status_code == 200
    assert client.get("/admin/engine/machineversion/").status_code == 200
    assert client.get("/admin/engine/machineinstance/add/").status_code == 403
