"""validate_graph reports every problem of a graph in one pass, and a 200-node graph is quick."""

import copy
import time
from typing import Any

from bench.graph_validation import realistic_graph
from engine.graph import validate
from engine.graph.validate import validate_graph
from tests.graph.builders import edge, expense, node


def test_many_problems_come_back_together() -> None:
    """Config, expression, template, edge, reachability, cycle and join problems in one list."""
    graph = expense()
    graph["nodes"][1]["config"]["expression"] = "input.amount >>"
    graph["nodes"][2]["config"]["args"]["to"] = "{{ input.owner"
    graph["nodes"][2]["config"]["retry"] = {"max_attempts": 0}
    graph["nodes"][3]["config"]["colour"] = "red"
    graph["nodes"].append(node("lost", "flow.set", values={"x": "{{ 1 }}"}))
    graph["nodes"].append(node("merge", "logic.join"))
    graph["nodes"].append(node("mystery", "logic.magic"))
    graph["edges"] += [
        edge("check", "merge", "maybe"),
        edge("vp", "ghost", "error"),
        edge("merge", "check"),
    ]
    found = {(p.node, p.field) for p in validate_graph(graph)}
    assert found == {
        ("check", "config.expression"),
        ("vp", "config.args.to"),
        ("vp", "config.retry.max_attempts"),
        ("done", "config.colour"),
        ("mystery", "type"),
        (None, "edges[4].handle"),
        (None, "edges[5].target"),
        ("lost", None),
        ("mystery", None),
        ("check", None),  # check → merge → check is a cycle outside any loop
        ("merge", None),  # a join with one incoming edge
    }


def test_the_realistic_graph_is_valid() -> None:
    """The bench's generated graph (conditions, switches, joins, loops, templates) is valid."""
    graph = realistic_graph(200)
    assert len(graph["nodes"]) == 200
    assert validate_graph(graph) == []


def test_a_200_node_graph_validates_quickly() -> None:
    """A 200-node graph validates in well under 100 ms (bound kept generous against noise)."""
    graph = realistic_graph(200)
    validate_graph(graph)
    samples = []
    for _ in range(5):
        began = time.perf_counter()
        validate_graph(graph)
        samples.append(time.perf_counter() - began)
    best = min(samples)
    print(f"validate_graph on 200 nodes: {best * 1000:.1f} ms (best of 5)")
    assert best < 0.5


def broken_documents() -> list[Any]:
    base = realistic_graph(13)
    variants: list[Any] = [None, [], "graph", {"nodes": []}, {"edges": [], "nodes": [], "x": 1}]
    changes: list[tuple[str, int, str, Any]] = [
        ("nodes", 0, "id", "1abc"),
        ("nodes", 0, "id", "a" * 65),
        ("nodes", 1, "type", ""),
        ("nodes", 1, "type", None),
        ("nodes", 2, "label", "x" * 201),
        ("nodes", 2, "config", None),
        ("nodes", 3, "position", {"x": 1}),
        ("nodes", 3, "position", {"x": 1, "y": True}),
        ("nodes", 3, "position", {"x": 1, "y": 2, "z": 3}),
        ("nodes", 4, "extra", 1),
        ("edges", 0, "id", ""),
        ("edges", 0, "handle", 3),
        ("edges", 1, "source", ""),
        ("edges", 1, "target", 5),
        ("edges", 2, "extra", 1),
    ]
    for collection, index, key, value in changes:
        variant = copy.deepcopy(base)
        variant[collection][index][key] = value
        variants.append(variant)
    for collection, key in (("nodes", "id"), ("nodes", "type"), ("edges", "source")):
        variant = copy.deepcopy(base)
        del variant[collection][0][key]
        variants.append(variant)
    return variants


def test_the_quick_shape_check_agrees_with_jsonschema() -> None:
    """The compiled shape check says yes exactly when jsonschema finds no error."""
    valid = [realistic_graph(13), expense(), {"nodes": [], "edges": [], "meta": {}}]
    for document in valid + broken_documents():
        expected = validate._GRAPH_VALIDATOR.is_valid(document)
        assert validate._fits_graph_schema(document) is expected, document
