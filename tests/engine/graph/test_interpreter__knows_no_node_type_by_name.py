"""The interpreter asks node types what they do and never compares their names: every
registered type's behaviour lives in its own module, so a new node type is one module."""

import re
from pathlib import Path

import engine.graph.interpreter
from engine.graph.nodes import all_node_types


def test_the_interpreter_names_no_node_type() -> None:
    source = Path(engine.graph.interpreter.__file__).read_text()
    named = [t.type for t in all_node_types() if re.search(rf"\b{re.escape(t.type)}\b", source)]
    assert named == []
    assert ".type ==" not in source and "type.type" not in source


def test_the_node_types_that_move_the_run_declare_it() -> None:
    by_name = {node_type.type: node_type for node_type in all_node_types()}
    suspending = {name for name, node_type in by_name.items() if node_type.suspends}
    assert suspending == {
        "flow.delay",
        "flow.wait_event",
        "flow.subworkflow",
        "human.approval",
        "human.review",
    }
    assert [name for name, node_type in by_name.items() if node_type.join] == ["logic.join"]
    assert [name for name, node_type in by_name.items() if node_type.loop] == ["logic.loop"]
    assert [name for name, node_type in by_name.items() if node_type.ends_run] == ["flow.end"]
    assert [name for name, node_type in by_name.items() if node_type.default_start] == [
        "trigger.manual"
    ]
