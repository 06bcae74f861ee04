"""Expressions are checked before publishing: undefined names, unknown input fields, nodes that
are not upstream and text compared with numbers are problems naming the node and field."""

from typing import Any

from engine.core.cel_check import check_types, from_json_schema
from engine.graph.validate import validate_graph
from tests.engine.graph.builders import document, edge, node

AMOUNT_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "owner": {"type": "string"}},
    "required": ["amount"],
}


def approval_graph(condition: str, *, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """start → check (condition) → approve / done, with `later` after approve."""
    return document(
        [
            node("start", "trigger.manual", input_schema=schema or AMOUNT_SCHEMA),
            node("check", "logic.condition", expression=condition),
            node("later", "flow.transform", output={"x": "1"}),
            node("done", "flow.end"),
        ],
        [
            edge("start", "check"),
            edge("check", "later", "true"),
            edge("check", "done", "false"),
            edge("later", "done"),
        ],
    )


def messages(graph: dict[str, Any]) -> list[tuple[str | None, str | None, str]]:
    return [(p.node, p.field, p.message) for p in validate_graph(graph)]


def test_correct_expressions_pass() -> None:
    """Declared fields, upstream nodes, has() on an undeclared field and matching types pass."""
    for condition in (
        "input.amount > 1000",
        "input.owner == 'ann' && input.amount >= 10.5",
        "has(input.note) || nodes.start.output.amount < 5",
        "nodes['start'].output.owner.startsWith('a')",
        "[1, 2].exists(x, x > input.amount)",
        "now > timestamp('2020-01-01T00:00:00Z')",
    ):
        assert messages(approval_graph(condition)) == [], condition


def test_an_undefined_name_is_a_problem_with_a_hint() -> None:
    """`amount > 1000` (no such variable) is flagged at check.config.expression."""
    [(where, field, message)] = messages(approval_graph("amount > 1000"))
    assert (where, field) == ("check", "config.expression")
    assert "undefined name 'amount'" in message
    assert "did you mean input.amount?" in message


def test_a_field_the_input_schema_lacks_is_a_problem() -> None:
    """input.amuont is not in the trigger's input schema: the message lists its fields."""
    [(_, field, message)] = messages(approval_graph("input.amuont > 1000"))
    assert field == "config.expression"
    assert "has no field 'amuont'" in message and "amount, owner" in message


def test_without_an_input_schema_any_field_may_be_read() -> None:
    """An undeclared input is open: nothing is flagged, rather than a false alarm."""
    graph = approval_graph("input.whatever > 3")
    del graph["nodes"][0]["config"]["input_schema"]
    assert messages(graph) == []


def test_a_node_that_is_not_upstream_is_a_problem() -> None:
    """`later` runs after `check`: reading its output in check is flagged; a typo is too."""
    [(_, _, message)] = messages(approval_graph("nodes.later.output.x == '1'"))
    assert "node 'later' is not upstream of 'check'" in message
    [(_, _, message)] = messages(approval_graph("nodes.strat.output.amount > 1"))
    assert "no node 'strat'" in message and "upstream of 'check': start" in message


def test_text_compared_with_a_number_is_a_problem() -> None:
    """`input.amount > '1000'` compares a number with text; so does owner + 1."""
    [(_, field, message)] = messages(approval_graph("input.amount > '1000'"))
    assert field == "config.expression"
    assert "compares text with a number" in message
    assert "'1000' is text and input.amount is a number" in message
    [(_, _, message)] = messages(approval_graph("input.owner + 1 == 'x'"))
    assert "adds text with a number" in message


def test_switch_cases_and_loop_items_are_checked_in_their_scope() -> None:
    """A switch case is named by its index; `item` exists only inside a loop's body."""
    graph = document(
        [
            node("start", "trigger.manual", input_schema=AMOUNT_SCHEMA),
            node(
                "route",
                "logic.switch",
                cases=[{"name": "big", "when": "input.amount > 5"}, {"name": "x", "when": "item"}],
            ),
            node("each", "logic.loop", items="[1, 2]"),
            node("inner", "logic.condition", expression="item > 1 && index >= 0"),
            node("done", "flow.end"),
        ],
        [
            edge("start", "route"),
            edge("route", "each", "big"),
            edge("route", "done", "x"),
            edge("route", "done", "default"),
            edge("each", "inner", "body"),
            edge("inner", "each", "true"),
            edge("inner", "each", "false"),
            edge("each", "done", "done"),
        ],
    )
    found = [(p.node, p.field, p.message) for p in validate_graph(graph)]
    assert [(where, field) for where, field, _ in found] == [("route", "config.cases[1].when")]
    assert "undefined name 'item'" in found[0][2]


def test_the_checker_reports_positions() -> None:
    """Each problem carries where in the text it is, for inline errors in the editor."""
    scope = {"input": from_json_schema(AMOUNT_SCHEMA)}
    [problem] = check_types("1 < 2 && amount > 1000", scope)
    assert problem.position == 9
