"""Each node's type, config, expressions and templates are checked, naming the node and field."""

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.graph.nodes.base import CheckContext, NodeType
from engine.graph.nodes.library import all_node_types, get_node_type
from engine.graph.validate import config_schema, validate_graph, validate_node_config
from tests.engine.graph.builders import expense, only, where


def with_config(node_index: int, **config: Any) -> dict[str, Any]:
    graph = expense()
    graph["nodes"][node_index]["config"] = config
    return graph


def get_node_type_or_fail(type_name: str) -> NodeType:
    node_type = get_node_type(type_name)
    assert node_type is not None
    return node_type


def test_the_example_graph_is_valid() -> None:
    """The builders' expense graph has no problem (every other case breaks one thing)."""
    assert validate_graph(expense()) == []


def test_every_node_type_has_a_valid_config_schema() -> None:
    """Each registered type's schema (with retry/timeout/compensation merged) is valid 2020-12."""
    for node_type in all_node_types():
        Draft202012Validator.check_schema(config_schema(node_type))
        problems = validate_node_config(node_type.type, "n", dict(node_type.defaults))
        assert all(problem.node == "n" for problem in problems), node_type.type


def test_action_schemas_carry_the_error_handling_settings() -> None:
    """config_schema merges retry, timeout and compensation into action types only."""
    action = config_schema(get_node_type_or_fail("action.python"))
    assert {"retry", "timeout", "compensation", "action"} <= set(action["properties"])
    condition = config_schema(get_node_type_or_fail("logic.condition"))
    assert "retry" not in condition["properties"]


def test_unknown_types_are_reported_with_a_suggestion() -> None:
    """An unknown type is named, with the closest known type when there is one."""
    graph = expense()
    graph["nodes"][1]["type"] = "logic.conditon"
    graph["nodes"][2]["type"] = "zzz"
    problems = validate_graph(graph)
    assert [(p.node, p.field, p.message) for p in problems] == [
        ("check", "type", "unknown node type 'logic.conditon' (did you mean 'logic.condition'?)"),
        ("vp", "type", "unknown node type 'zzz'"),
    ]


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({}, "config.expression", "is required"),
        ({"expression": True}, "config.expression", "must be text, not true or false"),
        (
            {"expression": "true", "colour": "red"},
            "config.colour",
            "unknown key 'colour' (known keys: expression)",
        ),
    ],
)
def test_config_breaking_the_type_schema_names_the_field(
    config: dict[str, Any], field: str, message: str
) -> None:
    """Schema errors are reported at `config.<path>` in plain words."""
    problem = only(validate_graph(with_config(1, **config)))
    assert (problem.node, problem.field, problem.message) == ("check", field, message)


def test_nested_config_errors_have_full_paths() -> None:
    """An error inside a list item is reported at `config.cases[i].<key>`."""
    config = {"cases": [{"name": "big", "when": "true"}, {"name": "bad name!", "when": "true"}]}
    problems = validate_node_config("logic.switch", "route", config)
    assert where(problems) == [("route", "config.cases[1].name")]
    assert problems[0].message == "must match the pattern ^[A-Za-z0-9_-]{1,40}$"
    config["cases"] = []
    assert [p.message for p in validate_node_config("logic.switch", "route", config)] == [
        "must hold at least 1 item"
    ]


def test_any_of_reports_the_alternative_of_the_right_type() -> None:
    """For an anyOf (text or a list of event types), the branch of the value's type speaks."""
    problems = validate_node_config("flow.wait_event", "w", {"event_types": ["Order.created", 3]})
    assert [(p.field, p.message) for p in problems] == [
        ("config.event_types[1]", "must be text, not a whole number")
    ]
    problems = validate_node_config("flow.wait_event", "w", {"event_types": 3})
    assert [(p.field, p.message) for p in problems] == [
        ("config.event_types", "must be text or a list, not a whole number")
    ]


def test_error_handling_settings_are_allowed_only_on_action_nodes() -> None:
    """retry/timeout/compensation are merged into action schemas and checked; others refuse them."""
    assert validate_graph(expense()) == []
    graph = expense()
    graph["nodes"][2]["config"]["retry"] = {"max_attempts": 0, "backoff": "random"}
    graph["nodes"][2]["config"]["timeout"] = 0
    assert [(p.field, p.message) for p in validate_graph(graph)] == [
        ("config.retry.backoff", 'must be one of "exponential", "linear", "fixed"'),
        ("config.retry.max_attempts", "must be at least 1"),
        ("config.timeout", "must be more than 0"),
    ]
    problem = only(validate_graph(with_config(1, expression="true", retry={})))
    assert (problem.field, problem.message) == (
        "config.retry",
        "unknown key 'retry' (known keys: expression)",
    )


@pytest.mark.parametrize(
    ("type_name", "config", "field"),
    [
        ("logic.condition", {"expression": "input.amount >"}, "config.expression"),
        ("logic.loop", {"items": "input.items +"}, "config.items"),
        (
            "logic.switch",
            {"cases": [{"name": "a", "when": "true"}, {"name": "b", "when": "1 +"}]},
            "config.cases[1].when",
        ),
        ("trigger.event", {"event_types": ["Order.created"], "filter": ""}, "config.filter"),
    ],
)
def test_expressions_that_do_not_compile_are_reported(
    type_name: str, config: dict[str, Any], field: str
) -> None:
    """Every CEL field (plain keys and list items) must compile; the problem names it."""
    problem = only(validate_node_config(type_name, "n", config))
    assert (problem.node, problem.field) == ("n", field)
    assert "syntax error" in problem.message or "empty" in problem.message


def test_a_compile_error_says_where_in_the_expression() -> None:
    """The message carries the character position, not the node and field again."""
    problem = only(validate_node_config("logic.condition", "c", {"expression": "a && && b"}))
    assert problem.message.endswith("(at character 5)")
    assert '"c"' not in problem.message


def test_valid_expressions_pass() -> None:
    """Well-formed CEL passes, including names from every scope variable."""
    expression = "input.amount > 1000 && vars.ok && nodes['send-mail'].output.sent && index < 3"
    assert validate_node_config("logic.condition", "c", {"expression": expression}) == []


def test_templates_are_checked_in_every_nested_string() -> None:
    """Template paths are rendered deep: each string in nested objects and lists is compiled."""
    graph = expense()
    graph["nodes"][2]["config"]["args"] = {
        "to": "{{ input.owner",
        "lines": ["fine {{ item }}", {"deep": "{{ }}"}],
        "count": 3,
    }
    problems = validate_graph(graph)
    assert [(p.node, p.field) for p in problems] == [
        ("vp", "config.args.to"),
        ("vp", "config.args.lines[1].deep"),
    ]
    assert problems[0].message == "'{{' is never closed by '}}' (at character 0)"
    assert problems[1].message == "'{{ }}' holds no expression (at character 0)"


def test_template_keys_with_odd_characters_are_quoted() -> None:
    """A key that is not a plain word appears as `["key"]` in the field path."""
    problems = validate_node_config(
        "action.python", "a", {"action": "x", "args": {"my key": "{{ 1 + }}"}}
    )
    assert where(problems) == [("a", 'config.args["my key"]')]


def test_a_field_with_a_schema_error_is_not_compiled_too() -> None:
    """A non-text expression is reported once, by the schema."""
    assert len(validate_node_config("logic.condition", "c", {"expression": 12})) == 1


def test_type_checks_run_with_the_context() -> None:
    """A NodeType's own check runs with the CheckContext (here: a missing workflow)."""
    context = CheckContext(workflow_exists=lambda slug: slug == "known")
    ok = validate_node_config("flow.subworkflow", "s", {"workflow": "known"}, context)
    assert ok == []
    problem = only(validate_node_config("flow.subworkflow", "s", {"workflow": "other"}, context))
    assert (problem.node, problem.field) == ("s", "config.workflow")


def test_type_checks_run_inside_the_graph_too() -> None:
    """validate_graph runs each type's check (here a reserved switch case name)."""
    graph = expense()
    graph["nodes"][1] = {
        "id": "check",
        "type": "logic.switch",
        "config": {
            "cases": [
                {"name": "true", "when": "true"},
                {"name": "false", "when": "false"},
                {"name": "default", "when": "1 > 0"},
            ]
        },
    }
    problem = only(validate_graph(graph))
    assert (problem.node, problem.field) == ("check", "config.cases[2].name")


def test_type_checks_do_not_run_on_a_config_with_schema_errors() -> None:
    """Checks may rely on the schema: with a schema error only that error is reported."""
    asked: list[str] = []

    def workflow_exists(slug: str) -> bool:
        asked.append(slug)
        return False

    context = CheckContext(workflow_exists=workflow_exists)
    problems = validate_node_config("flow.subworkflow", "s", {"workflow": "BAD SLUG"}, context)
    assert where(problems) == [("s", "config.workflow")]
    assert asked == []


def test_validate_node_config_handles_bad_input() -> None:
    """Unknown types and non-object configs come back as problems, never exceptions."""
    assert [p.message for p in validate_node_config("nope", "n", {})] == [
        "unknown node type 'nope'"
    ]
    assert [(p.field, p.message) for p in validate_node_config("flow.end", "n", [1])] == [
        ("config", "must be an object, not a list")
    ]


def test_four_eyes_stages_name_other_human_nodes() -> None:
    """distinct_from names approval or review nodes of the graph, never the node itself, and
    the requester is a template like the title."""
    from tests.engine.graph.graphs import graph

    document = graph(
        [
            ("start", "trigger.manual"),
            ("first", "human.approval", {"assignees": {"users": ["a"]}}),
            (
                "second",
                "human.approval",
                {
                    "assignees": {"users": ["b"]},
                    "requester": "{{ input.employee",
                    "distinct_from": ["first", "second", "ghost", "start"],
                },
            ),
        ],
        ["start>first", "first>approved>second"],
    )
    found = {
        (problem.node, problem.field): problem.message
        for problem in validate_graph(document, CheckContext(user_exists=lambda name: True))
    }
    assert ("second", "config.distinct_from[0]") not in found
    assert found[("second", "config.distinct_from[1]")] == "a step cannot be distinct from itself"
    assert found[("second", "config.distinct_from[2]")] == "no node has the id 'ghost'"
    assert "not an approval or review" in found[("second", "config.distinct_from[3]")]
    assert ("second", "config.requester") in found


def test_a_business_calendar_and_a_form_are_checked_where_they_are_set() -> None:
    """A wrong time zone or a form that is not an object schema is a problem on the node."""
    from tests.engine.graph.graphs import graph

    document = graph(
        [
            ("start", "trigger.manual"),
            (
                "ask",
                "human.approval",
                {
                    "assignees": {"users": ["a"]},
                    "timeout": "8h",
                    "calendar": {"timezone": "Mars/Olympus"},
                    "form": {"type": "object", "properties": {"x": {"type": "array"}}},
                },
            ),
        ],
        ["start>ask"],
    )
    found = {(problem.node, problem.field) for problem in validate_graph(document)}
    assert ("ask", "config.calendar.timezone") in found
    assert ("ask", "config.form.properties.x") in found
