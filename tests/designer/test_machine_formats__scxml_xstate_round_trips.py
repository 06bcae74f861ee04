"""Machine files: the order machine survives JSON, XState and SCXML round trips unchanged;
files written elsewhere in the plain subset import as the same machine; anything outside the
subset (and any DTD) is refused with a problem naming the element, creating nothing."""

import copy
import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.demo_machines.order import ORDER_MACHINE
from designer.machine_formats import FormatError, MachineFile, export_text, import_text
from designer.models import Machine
from engine.core.machines import machine_problems

NESTED: dict[str, Any] = {
    "initial": "open",
    "context": {"tries": 0},
    "states": [
        {"id": "open", "label": "Open", "initial": "new"},
        {"id": "new", "parent": "open", "entry": [{"type": "action.emit", "config": {}}]},
        {"id": "triage", "parent": "open"},
        {"id": "urgent"},
        {"id": "closed", "final": True},
    ],
    # In the order an import reads them: by state, parents first; events, delays, eventless.
    "transitions": [
        {"id": "open-close", "source": "open", "event": "close", "target": "closed"},
        {"id": "open-reset", "source": "open", "event": "reset", "target": "open"},
        {"id": "open-after", "source": "open", "after": "30s", "target": "closed"},
        {"id": "new-look", "source": "new", "event": "look", "target": "triage"},
        {
            "id": "triage-always",
            "source": "triage",
            "always": True,
            "guard": "context.tries > 3",
            "target": "urgent",
        },
        {"id": "urgent-reopen", "source": "urgent", "event": "reopen", "target": "new"},
    ],
}


def scxml(inside: str) -> str:
    return f'<scxml xmlns="http://www.w3.org/2005/07/scxml">{inside}</scxml>'


def order_file() -> MachineFile:
    return MachineFile(
        copy.deepcopy(ORDER_MACHINE.definition),
        slug=ORDER_MACHINE.slug,
        title=ORDER_MACHINE.title,
        description=ORDER_MACHINE.description,
    )


@pytest.mark.parametrize("format_name", ["json", "xstate", "scxml"])
def test_the_order_machine_round_trips_unchanged(format_name: str) -> None:
    back = import_text(format_name, export_text(format_name, order_file()))
    assert back == order_file()


def test_compound_delayed_and_eventless_transitions_round_trip_through_xstate() -> None:
    assert machine_problems(NESTED) == []
    config = json.loads(export_text("xstate", MachineFile(NESTED, slug="ticket")))
    assert config["states"]["open"]["after"] == {
        "30000": {"target": "closed", "meta": {"id": "open-after"}}
    }
    assert config["states"]["open"]["states"]["new"]["on"]["look"]["target"] == "triage"
    assert config["states"]["urgent"]["on"]["reopen"]["target"] == "#new"
    assert config["states"]["open"]["states"]["new"]["id"] == "new"
    assert config["states"]["open"]["on"]["reset"]["reenter"] is True
    assert import_text("xstate", json.dumps(config)).definition == NESTED


def test_scxml_refuses_to_export_delayed_transitions_naming_them() -> None:
    with pytest.raises(FormatError) as refused:
        export_text("scxml", MachineFile(NESTED))
    assert [(p.node, p.field) for p in refused.value.problems] == [
        ("open-after", "transitions.open-after.after")
    ]


def test_an_xstate_config_written_by_hand_imports() -> None:
    config = {
        "id": "light",
        "initial": "green",
        "context": {"cars": 0},
        "states": {
            "green": {"on": {"TIMER": "yellow"}, "entry": ["action.emit"]},
            "yellow": {"after": {"5000": "red"}},
            "red": {
                "initial": "walk",
                "states": {"walk": {"on": {"COUNTDOWN": ".wait"}}, "wait": {}},
                "on": {"TIMER": [{"target": "green", "guard": "context.cars > 0"}, "off"]},
            },
            "off": {"type": "final"},
        },
    }
    definition = import_text("xstate", json.dumps(config)).definition
    assert definition["states"][0] == {
        "id": "green",
        "entry": [{"type": "action.emit", "config": {}}],
    }
    assert [(t["id"], t["source"], t["target"]) for t in definition["transitions"]] == [
        ("green-TIMER", "green", "yellow"),
        ("yellow-after", "yellow", "red"),
        ("red-TIMER", "red", "green"),
        ("red-TIMER-2", "red", "off"),
        ("walk-COUNTDOWN", "walk", "wait"),
    ]
    assert definition["transitions"][1]["after"] == "5s"
    assert definition["transitions"][2]["guard"] == "context.cars > 0"
    assert machine_problems(definition) == []


def test_an_scxml_document_written_by_hand_imports() -> None:
    text = """<?xml version="1.0"?>
    <scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" name="door">
      <datamodel><data id="locked" expr="false"/></datamodel>
      <state id="closed">
        <state id="unlocked">
          <transition event="lock" target="locked" cond="!context.locked"/>
        </state>
        <state id="locked"><transition event="unlock" target="unlocked"/></state>
        <transition event="open" target="opened"/>
      </state>
      <state id="opened"><transition target="gone" cond="context.locked"/>
        <transition event="close" target="closed"/></state>
      <final id="gone"/>
    </scxml>"""
    file = import_text("scxml", text)
    assert file.slug == "door"
    definition = file.definition
    assert definition["initial"] == "closed" and definition["context"] == {"locked": False}
    assert definition["states"][0] == {"id": "closed", "initial": "unlocked"}
    assert definition["states"][1]["parent"] == "closed"
    assert definition["transitions"][-2] == {
        "id": "opened-always",
        "source": "opened",
        "target": "gone",
        "always": True,
        "guard": "context.locked",
    }
    assert machine_problems(definition) == []


@pytest.mark.parametrize(
    ("format_name", "text", "where"),
    [
        ("xstate", {"initial": "a", "states": {"a": {"type": "parallel"}}}, "states.a.type"),
        ("xstate", {"initial": "a", "states": {"a": {"invoke": {"src": "x"}}}}, "states.a.invoke"),
        (
            "xstate",
            {"initial": "a", "states": {"a": {"on": {"go": {"actions": []}}}}},
            "states.a.on.go.target",
        ),
        (
            "xstate",
            {"initial": "a", "states": {"a": {"on": {"go": "a.b"}}}},
            "states.a.on.go.target",
        ),
        (
            "xstate",
            {
                "initial": "a",
                "states": {"a": {"on": {"go": {"target": "a", "guard": {"type": "g"}}}}},
            },
            "states.a.on.go.guard",
        ),
        (
            "xstate",
            {"states": {"a": {}}, "predictableActionArguments": True},
            "machine.predictableActionArguments",
        ),
        (
            "scxml",
            '<scxml xmlns="http://www.w3.org/2005/07/scxml"><parallel id="p"/></scxml>',
            "scxml/parallel",
        ),
        (
            "scxml",
            scxml('<state id="a"><onentry><send event="x"/></onentry></state>'),
            "scxml/state[@id='a']/onentry/send",
        ),
        (
            "scxml",
            scxml('<state id="a"><transition event="x"/></state>'),
            "scxml/state[@id='a']/transition@target",
        ),
        ("scxml", "<machine/>", "scxml"),
        ("scxml", "<scxml", "text"),
        ("json", '{"format": "other"}', "format"),
    ],
)
def test_what_is_outside_the_subset_is_named(format_name: str, text: Any, where: str) -> None:
    raw = text if isinstance(text, str) else json.dumps(text)
    with pytest.raises(FormatError) as refused:
        import_text(format_name, raw)
    assert where in [problem.field for problem in refused.value.problems]


def test_dtds_and_entities_are_refused_before_parsing() -> None:
    laughs = """<?xml version="1.0"?>
    <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
    <scxml xmlns="http://www.w3.org/2005/07/scxml"><state id="&lol2;"/></scxml>"""
    with pytest.raises(FormatError) as refused:
        import_text("scxml", laughs)
    assert refused.value.problems[0].message == "DTDs and entity declarations are refused"
    with pytest.raises(FormatError):
        import_text("scxml", "<scxml>" + " " * 1_000_001 + "</scxml>")


@pytest.fixture
def designer(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("dana", "designers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@pytest.mark.parametrize("format_name", ["json", "xstate", "scxml"])
def test_export_then_import_through_the_api(
    client: Client, designer: dict[str, str], format_name: str
) -> None:
    definition = copy.deepcopy(ORDER_MACHINE.definition)
    client.post(
        "/api/machines",
        {"slug": "order", "title": "Order", "definition": definition},
        content_type="application/json",
        headers=designer,
    )
    exported = client.get(f"/api/machines/order/export?format={format_name}", headers=designer)
    assert exported.status_code == 200
    assert "attachment" in exported["Content-Disposition"]
    body = {"format": format_name, "text": exported.content.decode(), "slug": "order-copy"}
    imported = client.post(
        "/api/machines/import", body, content_type="application/json", headers=designer
    )
    assert imported.status_code == 201, imported.json()
    assert imported.json()["title"] == "Order" and imported.json()["problems"] == []
    assert Machine.objects.get(slug="order-copy").draft == definition


@pytest.mark.django_db
def test_refused_files_and_exports_answer_422_and_create_nothing(
    client: Client, designer: dict[str, str]
) -> None:
    body = {"format": "scxml", "text": "<!DOCTYPE x><scxml/>", "slug": "x", "title": "X"}
    refused = client.post(
        "/api/machines/import", body, content_type="application/json", headers=designer
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "text" and refused.json()["problems"]
    assert not Machine.objects.exists()

    client.post(
        "/api/machines",
        {"slug": "ticket", "title": "Ticket", "definition": NESTED},
        content_type="application/json",
        headers=designer,
    )
    scxml = client.get("/api/machines/ticket/export?format=scxml", headers=designer)
    assert scxml.status_code == 422
    assert scxml.json()["problems"][0]["node"] == "open-after"
    empty = client.post(
        "/api/machines",
        {"slug": "empty", "title": "E"},
        content_type="application/json",
        headers=designer,
    )
    assert empty.status_code == 201
    broken = client.get("/api/machines/empty/export?format=xstate", headers=designer)
    assert broken.status_code == 422 and broken.json()["field"] == "format"
    assert (
        client.get("/api/machines/ticket/export?format=bpmn", headers=designer).status_code == 422
    )
