"""validate_graph reports every problem of a graph in one pass, and a 200-node graph is quick."""

import time

from bench.graph_validation import realistic_graph
from engine.graph.validate import validate_graph
from tests.engine.graph.builders import edge, expense, node


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
