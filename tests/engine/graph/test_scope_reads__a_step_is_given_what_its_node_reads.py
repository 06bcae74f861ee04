"""A node's step is given the part of the scope its node reads: the names its expression and
template fields use and its type declares, and of `nodes` only the outputs it names."""

from typing import Any

from engine.graph.program import compile_node

SCOPE: dict[str, Any] = {
    "input": {"items": [1, 2, 3], "owner": "ada"},
    "vars": {"total": 6},
    "nodes": {"start": {"output": 1}, "each": {"output": {"items": [1, 2, 3]}}, "a-b": {}},
    "item": 2,
    "index": 1,
}


def given(node_type: str, **config: Any) -> dict[str, Any]:
    return compile_node("n", node_type, config).reads.pick(SCOPE)


def test_a_loop_body_reading_its_item_is_given_only_the_item() -> None:
    assert given("flow.transform", output="{{ item * 2 }}") == {"item": 2}


def test_outputs_named_by_id_or_by_key_are_the_only_ones_given() -> None:
    assert given("logic.condition", expression="nodes.start.output > 0 && vars.total > 1") == {
        "nodes": {"start": {"output": 1}},
        "vars": {"total": 6},
    }
    assert given("flow.set", values={"x": "{{ nodes['a-b'] }}"}) == {"nodes": {"a-b": {}}}


def test_outputs_selected_by_a_computed_key_give_every_output() -> None:
    assert given("flow.transform", output="{{ nodes[input.owner] }}") == {
        "nodes": SCOPE["nodes"],
        "input": SCOPE["input"],
    }


def test_a_rate_limit_key_and_a_type_s_own_reads_are_given() -> None:
    assert given("trigger.manual") == {"input": SCOPE["input"]}
    rate_limit = {"name": "per-owner", "limit": 1, "period": 1, "key": "{{ input.owner }}"}
    picked = given("action.log", message="hi", rate_limit=rate_limit)
    assert picked == {"input": SCOPE["input"]}


def test_a_field_that_does_not_compile_gives_the_whole_scope() -> None:
    assert given("flow.transform", output="{{ item + }}") == SCOPE
