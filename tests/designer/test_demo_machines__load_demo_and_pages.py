"""The seed's order machine is a canvas demo: valid, laid out on the grid, published once by
`load_demo` (an edited draft is left alone); the designer lists machines and shows each one's
draft, problems and versions."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from designer.demo_machines import DEMO_MACHINES, load_demo_machines
from designer.demo_machines.order import ORDER_MACHINE
from designer.machine_drafts import create_machine, problems_of, save_machine_draft
from designer.models import Machine
from engine.models import MachineVersion

pytestmark = pytest.mark.django_db


def test_the_order_machine_is_valid_and_laid_out() -> None:
    definition = ORDER_MACHINE.definition
    assert problems_of(definition) == []
    positions = [(s["position"]["x"], s["position"]["y"]) for s in definition["states"]]
    assert len(set(positions)) == len(positions)
    assert {s["id"] for s in definition["states"] if s.get("final")} == {"cancelled", "returned"}
    assert {t["event"] for t in definition["transitions"]} == {
        "submit",
        "pay",
        "cancel",
        "fulfill",
        "fail",
        "retry",
        "return",
    }


def test_load_demo_publishes_the_order_machine_once_and_leaves_edits_alone(settings: Any) -> None:
    settings.STEPWISE_DEMO = True  # the test database has DATABASE_URL set
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Demo state machines (canvas)" in out.getvalue()
    assert f"{ORDER_MACHINE.slug} " in out.getvalue()
    versions = MachineVersion.objects.filter(machine=ORDER_MACHINE.slug)
    assert list(versions.values_list("number", "note")) == [(1, "Demo")]
    assert versions.get().definition == ORDER_MACHINE.definition

    machine = Machine.objects.get(slug=ORDER_MACHINE.slug)
    edited = {**machine.draft, "states": machine.draft["states"][:2]}
    save_machine_draft(machine, edited, machine.revision, None)
    assert load_demo_machines(None) == [(demo.slug, False) for demo in DEMO_MACHINES]
    assert versions.count() == 1
    assert Machine.objects.get(slug=ORDER_MACHINE.slug).draft == edited


def test_the_designer_lists_machines_and_shows_one(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vera", "viewers"))
    load_demo_machines(None)
    create_machine(slug="sketch", title="A sketch", user=None)
    index = client.get("/designer/").content.decode()
    assert "State machines" in index
    assert 'href="/designer/machines/canvas-order/"' in index
    assert 'href="/designer/machines/sketch/"' in index

    page = client.get("/designer/machines/canvas-order/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "v1" in text and "None: the draft can be published." in text
    assert "size(context.items) &gt; 0" in text
    assert "/api/machines/canvas-order/export?format=scxml" in text

    sketch = client.get("/designer/machines/sketch/").content.decode()
    assert 'data-testid="machine-problems"' in sketch and "Not published yet" in sketch
    missing = client.get("/designer/machines/nope/")
    assert missing.status_code == 404 and "No machine called" in missing.content.decode()
