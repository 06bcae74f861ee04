"""The four action node types are registered as error-handling actions whose config schemas
describe every field (for the generated form) and reject what they do not know."""

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.graph.nodes.library import get_node_type
from engine.graph.validate import validate_node_config

TYPES = ("action.http", "action.email", "action.ai", "action.record")

VALID = {
    "action.http": {
        "method": "POST",
        "url": "https://api.example.com/orders/{{ input.id }}",
        "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
        "query": {"expand": "items"},
        "body": {"id": "{{ input.id }}"},
        "expect": ["2xx", 409],
        "timeout": 10,
        "retry": {"max_attempts": 5},
    },
    "action.email": {
        "to": ["{{ input.customer.email }}", "ops@example.com"],
        "subject": "Order {{ input.id }}",
        "body": "Thanks!",
    },
    "action.ai": {
        "prompt": "Summarise {{ input.text }}",
        "output": "json",
        "schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
    },
    "action.record": {
        "operation": "query",
        "collection": "Orders",
        "where": {"status": "{{ input.status }}"},
        "order_by": "-created_at",
        "limit": 10,
    },
}


@pytest.mark.parametrize("type_name", TYPES)
def test_registered_as_error_handling_actions(type_name: str) -> None:
    """Each type is in the actions group, runs a step and takes retry/timeout/compensation."""
    node_type = get_node_type(type_name)
    assert node_type is not None
    assert node_type.group == "actions"
    assert node_type.error_handling is True
    assert node_type.execute is not None
    assert node_type.check is not None


@pytest.mark.parametrize("type_name", TYPES)
def test_every_field_has_a_title_and_description(type_name: str) -> None:
    """The schema is valid draft 2020-12, closed, and describes each property."""
    node_type = get_node_type(type_name)
    assert node_type is not None
    schema = node_type.config_schema
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    for name, field in schema["properties"].items():
        assert field.get("title"), f"{type_name}.{name} has no title"
        assert field.get("description"), f"{type_name}.{name} has no description"


@pytest.mark.parametrize("type_name", TYPES)
def test_a_typical_config_validates(type_name: str) -> None:
    """The example config of each type has no problem (templates compile, checks pass)."""
    assert validate_node_config(type_name, "n", VALID[type_name]) == []


@pytest.mark.parametrize(
    ("type_name", "config", "field"),
    [
        ("action.http", {"url": "https://x", "method": "TRACE"}, "method"),
        ("action.http", {"url": "https://x", "expect": ["2yy"]}, "expect[0]"),
        ("action.http", {"url": "https://x", "timeout": 301}, "timeout"),
        ("action.http", {"url": "https://x/{{ input.id"}, "url"),
        ("action.http", {"url": "https://x", "verify": False}, "verify"),
        ("action.email", {"to": ["a@b.example"], "subject": "s"}, "body"),
        ("action.email", {"to": ["nope"], "subject": "s", "body": "b"}, "to[0]"),
        ("action.ai", {"prompt": "p", "output": "json"}, "schema"),
        ("action.ai", {"prompt": "p", "temperature": 3}, "temperature"),
        ("action.record", {"operation": "upsert", "collection": "Orders"}, "operation"),
        ("action.record", {"operation": "list", "collection": "bad name"}, "collection"),
        ("action.record", {"operation": "get", "collection": "Orders"}, "key"),
        ("action.record", {"operation": "list", "collection": "O", "limit": 5000}, "limit"),
    ],
)
def test_bad_configs_name_the_field(type_name: str, config: dict[str, Any], field: str) -> None:
    """A bad config gives a problem naming the field at fault."""
    problems = validate_node_config(type_name, "n", config)
    assert problems, f"{type_name} accepted {config}"
    assert any(p.field is not None and p.field.endswith(field) for p in problems), problems
