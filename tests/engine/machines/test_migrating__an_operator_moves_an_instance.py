"""Publishing a new version never moves a running instance; an operator moves one explicitly,
mapping its state, and the move is recorded. Mistakes are named and change nothing."""

from typing import Any

import pytest

from accounts.models import ApiToken
from engine.machines.publishing import publish_machine
from engine.models import MachineInstance, MachineTimer
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def door(open_state: str, *, self_closing: bool = False) -> dict[str, Any]:
    transitions: list[dict[str, Any]] = [
        {"id": "opening", "source": "closed", "event": "open", "target": open_state},
        {"id": "closing", "source": open_state, "event": "close", "target": "closed"},
    ]
    if self_closing:
        transitions.append({"id": "swing", "source": open_state, "after": "1h", "target": "closed"})
    return {
        "initial": "closed",
        "states": [{"id": "closed"}, {"id": open_state}],
        "transitions": transitions,
    }


@pytest.fixture
def call(client: Any, make_user: Any) -> Any:
    def as_user(name: str, role: str) -> Any:
        _, raw = ApiToken.issue(make_user(name, role), "ci")

        def send(method: str, path: str, body: Any = None) -> Any:
            return getattr(client, method)(
                path,
                body or {},
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw}"},
            )

        return send

    return as_user


def test_a_new_version_leaves_instances_until_an_operator_moves_them(call: Any) -> None:
    operator, viewer = call("olga", "operators"), call("vera", "viewers")
    publish_machine("door", "Door", door("open"))
    created = operator("post", "/api/machines/door/instances", {"key": "front"})
    instance = created.json()["id"]
    wait_applied(instance)
    operator("post", f"/api/instances/{instance}/events", {"event": "open"})
    wait_applied(instance)

    publish_machine("door", "Door", door("ajar", self_closing=True))
    still = operator("get", f"/api/instances/{instance}").json()
    assert (still["version"], still["state"]) == (1, "open")  # publishing moved nothing

    path = f"/api/instances/{instance}/migrate"
    unmapped = operator("post", path, {"version": 2})
    assert unmapped.status_code == 422
    assert unmapped.json()["field"] == "states.open"
    assert "ajar" in unmapped.json()["detail"]
    missing = operator("post", path, {"version": 9, "states": {"open": "ajar"}})
    assert (missing.status_code, missing.json()["field"]) == (422, "version")
    assert viewer("post", path, {"version": 2, "states": {"open": "ajar"}}).status_code == 403
    assert MachineInstance.objects.get(pk=instance).version == 1  # nothing changed

    moved = operator("post", path, {"version": 2, "states": {"open": "ajar"}})
    assert moved.status_code == 200, moved.content
    assert (moved.json()["name"], moved.json()["from_state"], moved.json()["to_state"]) == (
        "@migrate",
        "open",
        "ajar",
    )
    assert moved.json()["actor"] == "olga"
    now = operator("get", f"/api/instances/{instance}").json()
    assert (now["version"], now["state"]) == (2, "ajar")
    assert [t["transition"] for t in now["timers"]] == ["swing"]  # v2's delay counts from now
    assert MachineTimer.objects.filter(instance_id=instance).count() == 1

    operator("post", f"/api/instances/{instance}/events", {"event": "close"})
    wait_applied(instance)
    closed = operator("get", f"/api/instances/{instance}").json()
    assert closed["state"] == "closed"
    assert [e["name"] for e in closed["history"]] == ["@start", "open", "@migrate", "close"]
    assert closed["timers"] == []
