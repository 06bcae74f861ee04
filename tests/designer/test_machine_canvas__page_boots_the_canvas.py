"""The machine canvas page boots the canvas island with the draft, its problems, the action
types a machine may run and what the user may do; the machine's page links to it."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from designer.demo_machines import load_demo_machines
from designer.machine_drafts import create_machine

pytestmark = pytest.mark.django_db


def _boot(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="canvas-boot" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_a_designer_gets_the_draft_and_the_action_types(client: Client, make_user: Any) -> None:
    client.force_login(make_user("dora", "designers"))
    load_demo_machines(None)
    page = client.get("/designer/machines/canvas-order/")
    assert 'href="/designer/machines/canvas-order/canvas/"' in page.content.decode()

    response = client.get("/designer/machines/canvas-order/canvas/")
    assert response.status_code == 200
    boot = _boot(response.content.decode())
    assert boot["kind"] == "machine"
    assert boot["definition"]["initial"] == "draft"
    assert len(boot["definition"]["states"]) == 7
    assert boot["problems"] == []
    assert boot["publishedVersion"] == 1
    assert boot["can"] == {"edit": True, "publish": True}
    types = {info["type"] for info in boot["actionTypes"]}
    assert {"action.emit", "action.python", "action.http"} <= types
    # People's tasks and flow nodes are not actions a state or transition can run.
    assert {info["group"] for info in boot["actionTypes"]} == {"actions"}


def test_a_viewer_sees_it_read_only_and_a_missing_machine_is_404(
    client: Client, make_user: Any
) -> None:
    client.force_login(make_user("vera", "viewers"))
    create_machine(slug="sketch", title="A sketch", user=None)
    boot = _boot(client.get("/designer/machines/sketch/canvas/").content.decode())
    assert boot["can"] == {"edit": False, "publish": False}
    assert boot["definition"] == {"initial": "", "states": [], "transitions": []}
    assert any(problem["field"] == "states" for problem in boot["problems"])
    missing = client.get("/designer/machines/nope/canvas/")
    assert missing.status_code == 404 and "No machine called" in missing.content.decode()
