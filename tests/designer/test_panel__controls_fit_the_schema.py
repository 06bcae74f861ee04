"""The side panel chooses a control for each field from its schema, and a field whose JSON does
not parse is shown again as typed, with its error, without claiming anything was applied."""

import json

import pytest
from django.test import Client

from designer.panel import FIELD_PREFIX, config_from_form, control_for, fields_for
from engine.graph.nodes import get_node_type
from engine.graph.validate import config_schema


def controls(node_type: str) -> dict[str, str]:
    kind = get_node_type(node_type)
    assert kind is not None
    schema = config_schema(kind)
    return {field.key: field.control for field in fields_for(kind, schema, {}, [])}


def test_each_field_gets_the_control_its_schema_fits() -> None:
    approval = controls("human.approval")
    assert approval["assignees"] == approval["escalate_to"] == "people"
    assert approval["timeout"] == "duration"
    assert approval["distinct_from"] == "list"
    assert approval["form"] == "schema"  # the approver's form: the same builder as an input
    assert controls("human.review")["reviewers"] == "people"
    email = controls("action.email")
    assert email["to"] == email["cc"] == "list"
    assert email["subject"] == ""  # plain text stays a plain input
    assert controls("action.http")["headers"] == "keyvalue"
    assert controls("flow.set")["values"] == "keyvalue"
    assert controls("logic.switch")["cases"] == "rows"
    assert controls("logic.condition")["expression"] == "expression"
    assert controls("trigger.manual")["input_schema"] == "schema"
    assert controls("flow.delay")["duration"] == "duration"
    # A breaker and a rate limit: one field per setting, durations with the duration editor.
    assert controls("action.http")["circuit_breaker"] == "fields"
    assert controls("action.python")["rate_limit"] == "fields"


def test_a_switchs_cases_name_their_expression_column() -> None:
    kind = get_node_type("logic.switch")
    assert kind is not None
    control, spec = control_for(
        "cases", config_schema(kind)["properties"]["cases"], kind.expressions
    )
    assert control == "rows"
    assert spec["expressions"] == ["when"]
    assert set(spec["item"]["properties"]) >= {"name", "when"}


def test_an_object_with_declared_properties_is_no_key_value_map() -> None:
    schema = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    assert control_for("debounce", schema) == ("", {})


@pytest.mark.django_db
def test_invalid_json_is_kept_with_its_error_and_not_applied(make_user) -> None:
    client = Client()
    client.force_login(make_user("dora", "designers"))
    client.post("/designer/new", {"slug": "typos", "title": "Typos"})
    typed = '{"kept": 1, "broken": '
    answer = client.post(
        "/designer/typos/panel",
        {
            "node_id": "set",
            "node_type": "flow.set",
            "label": "",
            "config": json.dumps({"values": {"kept": 1}}),
            "cfg.values": typed,
        },
    )
    assert answer.status_code == 200
    assert "HX-Trigger" not in answer  # nothing reaches the canvas
    body = answer.content.decode()
    assert "Applied to the canvas." not in body
    assert "Not applied" in body
    assert "is not valid JSON" in body
    assert "{&quot;kept&quot;: 1, &quot;broken&quot;: </textarea>" in body


def test_every_action_nodes_bulkhead_is_a_small_form_not_json() -> None:
    """Each action node offers Bulkhead as one input per property (name, at most at once)."""
    for node_type in ("action.python", "action.http", "action.email", "action.ai"):
        assert controls(node_type)["bulkhead"] == "fields", node_type
    kind = get_node_type("action.http")
    assert kind is not None
    control, spec = control_for("bulkhead", config_schema(kind)["properties"]["bulkhead"])
    assert control == "fields"
    assert list(spec["properties"]) == ["name", "max_concurrent"]
    assert spec["required"] == ["name"]


@pytest.mark.parametrize(
    ("node_type", "switch"),
    [
        ("human.approval", "any_rejection_rejects"),
        ("flow.subworkflow", "wait"),
        ("action.http", "follow_redirects"),
    ],
)
def test_a_switch_left_out_shows_its_default_and_apply_keeps_it(
    node_type: str, switch: str
) -> None:
    """A switch whose default is on was shown off when the config left it out, and the next
    Apply (of any other field) wrote it off: an approval stopped settling on one rejection,
    a sub-workflow stopped being waited for."""
    kind = get_node_type(node_type)
    assert kind is not None
    schema = config_schema(kind)
    assert schema["properties"][switch]["default"] is True
    shown = {field.key: field.value for field in fields_for(kind, schema, {}, [])}
    assert shown[switch] is True
    # The browser posts a checked box by name, as it would after showing it checked.
    posted = {FIELD_PREFIX + switch: "on"}
    config, problems, _ = config_from_form(schema, posted, {})
    assert config[switch] is True and not problems
