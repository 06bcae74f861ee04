"""Every duration in a node's config is at most 365 days however it is written (`99999999w`,
`1e300`), and a timeout is more than 0: the problem names the field, so no published graph
fails its runs with an OverflowError."""

from collections.abc import Iterator
from typing import Any

import pytest

from engine.core.durations import DURATION_KEYWORD, MAX_DURATION_SECONDS, SIGNED_DURATION
from engine.graph.nodes.library import all_node_types, get_node_type
from engine.graph.validate import config_schema, validate_graph, validate_node_config
from tests.engine.graph.graphs import graph

TOO_LONG = "must be at most 365 days (31536000 seconds)"
APPROVAL = {"assignees": {"users": ["approver"]}}
REVIEW = {"reviewers": {"users": ["approver"]}}

# (type, config with the duration, field): every duration-valued field of every node type
# (test_every_duration_field_is_bounded_and_listed_here keeps the list whole).
DURATIONS = [
    ("human.approval", {**APPROVAL, "timeout": "{}"}, "config.timeout"),
    ("human.approval", {**APPROVAL, "timeout": "1d", "reminder": "{}"}, "config.reminder"),
    (
        "human.approval",
        {**APPROVAL, "timeout": "1d", "escalate_to": {"users": ["b"]}, "escalation_timeout": "{}"},
        "config.escalation_timeout",
    ),
    ("human.review", {**REVIEW, "timeout": "{}"}, "config.timeout"),
    ("human.review", {**REVIEW, "timeout": "1d", "reminder": "{}"}, "config.reminder"),
    ("flow.delay", {"duration": "{}"}, "config.duration"),
    ("flow.wait_event", {"event_types": "Order.paid", "timeout": "{}"}, "config.timeout"),
    ("logic.loop", {"items": "input.items", "delay": "{}"}, "config.delay"),
    (
        "trigger.event",
        {"event_types": ["Order.paid"], "debounce": {"seconds": "{}"}},
        "config.debounce.seconds",
    ),
    ("trigger.schedule", {"interval": "{}"}, "config.interval"),
    ("action.python", {"action": "a", "timeout": "{}"}, "config.timeout"),
    (
        "action.python",
        {"action": "a", "retry": {"initial_delay": "{}"}},
        "config.retry.initial_delay",
    ),
    ("action.python", {"action": "a", "retry": {"max_delay": "{}"}}, "config.retry.max_delay"),
]
ERROR_HANDLING_FIELDS = {"config.timeout", "config.retry.initial_delay", "config.retry.max_delay"}
# Fields in seconds only, where text such as "7d" is refused by the type.
NUMBER_ONLY = {
    ("logic.loop", "config.delay"),
    ("trigger.event", "config.debounce.seconds"),
    ("trigger.schedule", "config.interval"),
    ("action.python", "config.timeout"),
}


def _with(config: dict[str, Any], value: Any) -> dict[str, Any]:
    """The config with its "{}" placeholder replaced by value, at any depth."""
    if isinstance(config, dict):
        return {key: _with(item, value) for key, item in config.items()}
    return value if config == "{}" else config


def _seconds_fields(schema: Any, field: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field, schema) of each property that is a duration: a text duration, or seconds."""
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{field}.{key}"
        is_text_duration = any(
            option.get("pattern") == SIGNED_DURATION.pattern for option in sub.get("anyOf", [])
        )
        if is_text_duration or "(seconds)" in str(sub.get("title", "")):
            yield path, sub
        yield from _seconds_fields(sub, path)


def test_every_duration_field_is_bounded_and_listed_here() -> None:
    """A new duration field carries the bound (or a lower maximum) and joins DURATIONS."""
    listed = {(type_name, field) for type_name, _, field in DURATIONS}
    for node_type in all_node_types():
        for field, schema in _seconds_fields(config_schema(node_type), "config"):
            bound = schema.get(DURATION_KEYWORD, {}).get("maximum", schema.get("maximum"))
            assert bound is not None and bound <= MAX_DURATION_SECONDS, (node_type.type, field)
            # Breakers and rate limits have their own, shorter bound (7 days), checked by
            # tests/engine/graph/test_resilience_options__*; an action's timeout and retry
            # waits are the same on every action type, listed once for action.python.
            shared = field.startswith(("config.circuit_breaker", "config.rate_limit"))
            shared |= node_type.error_handling and field in ERROR_HANDLING_FIELDS
            if DURATION_KEYWORD in schema and not shared:
                assert (node_type.type, field) in listed, (node_type.type, field)


@pytest.mark.parametrize(("type_name", "config", "field"), DURATIONS)
@pytest.mark.parametrize("value", ["99999999w", 1e300, MAX_DURATION_SECONDS + 1])
def test_a_duration_over_a_year_names_its_field(
    type_name: str, config: dict[str, Any], field: str, value: Any
) -> None:
    if (type_name, field) in NUMBER_ONLY and isinstance(value, str):
        value = 99999999 * 604800
    problems = validate_node_config(type_name, "n", _with(config, value))
    assert [(p.field, p.message) for p in problems] == [(field, TOO_LONG)]


@pytest.mark.parametrize(("type_name", "config", "field"), DURATIONS)
def test_a_year_is_allowed(type_name: str, config: dict[str, Any], field: str) -> None:
    value = MAX_DURATION_SECONDS if (type_name, field) in NUMBER_ONLY else "365d"
    problems = validate_node_config(type_name, "n", _with(config, value))
    assert (field, TOO_LONG) not in [(p.field, p.message) for p in problems]


@pytest.mark.parametrize(
    ("type_name", "config", "field"),
    [row for row in DURATIONS if row[0].startswith("human.") or row[0] == "flow.wait_event"],
)
@pytest.mark.parametrize("value", [0, "0s", "0d"])
def test_a_timeout_of_zero_names_its_field(
    type_name: str, config: dict[str, Any], field: str, value: Any
) -> None:
    """A task or wait that times out at once is a mistake, not a plan."""
    problems = validate_node_config(type_name, "n", _with(config, value))
    assert (field, "must be more than 0") in [(p.field, p.message) for p in problems]


@pytest.mark.parametrize(
    ("type_name", "config", "message"),
    [
        ("flow.delay", {"duration": "-5d"}, "must be at least 0"),
        ("flow.delay", {"duration": -5}, "must be at least 0"),
        ("human.approval", {**APPROVAL, "timeout": "-5d"}, "must be more than 0"),
    ],
)
def test_a_negative_duration_is_named_by_its_bound_written_either_way(
    type_name: str, config: dict[str, Any], message: str
) -> None:
    """ "-5d" reads like -5: the side panel posts what was typed, and both get the same words."""
    field = "config.duration" if "duration" in config else "config.timeout"
    problems = validate_node_config(type_name, "n", config)
    assert [(p.field, p.message) for p in problems] == [(field, message)]


def test_a_delay_of_zero_is_still_allowed() -> None:
    assert validate_node_config("flow.delay", "n", {"duration": 0}) == []


def test_the_graph_with_a_too_long_approval_is_invalid() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("approve", "human.approval", {**APPROVAL, "timeout": "99999999w"}),
        ],
        ["start>approve"],
    )
    assert [(p.node, p.field, p.message) for p in validate_graph(document)] == [
        ("approve", "config.timeout", TOO_LONG)
    ]


def test_the_types_named_here_exist() -> None:
    for type_name, _, _ in DURATIONS:
        assert get_node_type(type_name) is not None, type_name
