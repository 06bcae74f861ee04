"""Edges must join existing nodes by real outputs; every node is reached, loops alone may cycle."""

from typing import Any

from engine.graph.validate import validate_graph
from tests.engine.graph.builders import document, edge, expense, node, only, where

START = node("start", "trigger.manual")


def problems_of(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(p.node, p.field, p.message) for p in validate_graph(document(nodes, edges))]


def test_duplicate_node_ids_are_reported() -> None:
    """A second node with an id already used is reported on that id."""
    graph = expense()
    graph["nodes"].append(node("check", "flow.end"))
    problem = only(validate_graph(graph))
    assert (problem.node, problem.field) == ("check", "id")
    assert problem.message == "nodes[1] has the same id; node ids must be unique"


def test_duplicate_edge_ids_are_reported() -> None:
    """A second edge with an id already used is reported at edges[i].id."""
    graph = expense()
    graph["edges"][3]["id"] = graph["edges"][0]["id"]
    problem = only(validate_graph(graph))
    assert (problem.node, problem.field) == (None, "edges[3].id")
    assert problem.message.startswith("edges[0] has the same id")


def test_dangling_edges_are_reported_at_their_end() -> None:
    """An edge whose source or target does not exist is reported at that end."""
    graph = expense()
    graph["edges"].append(edge("ghost", "done", id="e9"))
    graph["edges"].append(edge("vp", "nowhere", id="e10"))
    assert [(p.field, p.message) for p in validate_graph(graph)] == [
        ("edges[4].source", "no node has the id 'ghost'"),
        ("edges[5].target", "no node has the id 'nowhere'"),
    ]


def test_no_edge_may_lead_into_a_trigger() -> None:
    """A trigger starts the graph; an edge into it is an error (here it also closes a cycle)."""
    graph = expense()
    graph["edges"].append(edge("vp", "start", "error"))
    problems = validate_graph(graph)
    assert where(problems)[0] == (None, "edges[4].target")
    assert problems[0].message == "'start' is a trigger; no edge may lead into a trigger"


def test_self_loops_are_reported() -> None:
    """An edge from a node to itself is reported (and not again as a cycle)."""
    graph = expense()
    graph["edges"].append(edge("vp", "vp", "error"))
    problem = only(validate_graph(graph))
    assert (problem.field, problem.message) == (
        "edges[4].target",
        "the edge leads from 'vp' back to itself",
    )


def test_duplicate_edges_are_reported_with_null_and_empty_handles_equal() -> None:
    """Two edges with the same source, handle and target repeat each other; null equals ""."""
    graph = expense()
    graph["edges"].append(edge("vp", "done", "", id="again"))
    problem = only(validate_graph(graph))
    assert (problem.field, problem.message) == (
        "edges[4]",
        "edges[3] already joins the same source, handle and target",
    )


def test_a_handle_the_source_lacks_is_reported_with_the_ones_it_has() -> None:
    """An edge's handle must be an output of its source; the message lists the outputs."""
    graph = expense()
    graph["edges"][1]["handle"] = "maybe"
    del graph["edges"][2]["handle"]
    assert [(p.field, p.message) for p in validate_graph(graph)] == [
        (
            "edges[1].handle",
            "'check' has no output 'maybe'; its outputs are 'true', 'false', 'error'",
        ),
        (
            "edges[2].handle",
            "'check' has no normal output; an edge from it needs a handle: "
            "'true', 'false', 'error'",
        ),
    ]


def test_error_edges_and_config_dependent_handles_are_accepted() -> None:
    """Every node has `error`; a switch has its case names and `default`; a wait has `timeout`."""
    nodes = [
        START,
        node("route", "logic.switch", cases=[{"name": "big", "when": "input.amount > 10"}]),
        node("wait", "flow.wait_event", event_types="Order.paid", timeout="2d"),
        node("end", "flow.end"),
        node("oops", "flow.end"),
    ]
    edges = [
        edge("start", "route"),
        edge("route", "wait", "big"),
        edge("route", "end", "default"),
        edge("route", "oops", "error"),
        edge("wait", "end"),
        edge("wait", "oops", "timeout"),
    ]
    assert problems_of(nodes, edges) == []
    edges.append(edge("route", "end", "small"))
    assert problems_of(nodes, edges) == [
        (
            None,
            "edges[6].handle",
            "'route' has no output 'small'; its outputs are 'big', 'default', 'error'",
        )
    ]


def test_the_graph_needs_a_trigger() -> None:
    """Without a trigger that is the one problem reported (not every node as unreachable)."""
    assert problems_of([node("end", "flow.end")], []) == [(None, None, "the graph needs a trigger")]
    assert problems_of([], []) == [(None, None, "the graph needs a trigger")]


def test_every_node_must_be_reached_from_a_trigger() -> None:
    """A node no trigger leads to is reported; any trigger counts as a start."""
    graph = expense()
    graph["nodes"].append(node("orphan", "flow.end"))
    graph["nodes"].append(node("after-orphan", "flow.end"))
    graph["edges"].append(edge("orphan", "after-orphan", "error"))
    assert where(validate_graph(graph)) == [("orphan", None), ("after-orphan", None)]
    graph["nodes"].append(node("hook", "trigger.webhook", endpoint="orders"))
    graph["edges"].append(edge("hook", "orphan"))
    assert validate_graph(graph) == []


def test_a_cycle_outside_loops_is_reported_with_its_path() -> None:
    """Steps that lead back to each other without a loop form a cycle, shown as a path."""
    nodes = [
        START,
        node("a", "flow.set", values={"x": 1}),
        node("b", "flow.set", values={"y": 2}),
        node("c", "logic.condition", expression="vars.x > 1"),
        node("end", "flow.end"),
    ]
    edges = [
        edge("start", "a"),
        edge("a", "b"),
        edge("b", "c"),
        edge("c", "a", "true"),
        edge("c", "end", "false"),
    ]
    (problem,) = problems_of(nodes, edges)
    assert problem[:2] == ("a", None)
    assert problem[2].startswith("'a' → 'b' → 'c' → 'a' form a cycle outside any loop")


def loop_graph(*extra_edges: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [
        START,
        node("each", "logic.loop", items="input.recipients", concurrency=5),
        node("send", "action.python", action="send", args={"to": "{{ item }}"}),
        node("count", "flow.set", values={"sent": "{{ index + 1 }}"}),
        node("end", "flow.end"),
    ]
    edges = [
        edge("start", "each"),
        edge("each", "send", "body"),
        edge("send", "count"),
        edge("count", "each"),
        edge("each", "end", "done"),
        *extra_edges,
    ]
    return nodes, edges


def test_a_loop_body_may_lead_back_to_its_loop() -> None:
    """An edge from inside a loop's body back to the loop ("next item") is no cycle."""
    assert problems_of(*loop_graph()) == []


def test_nested_loops_may_each_lead_back() -> None:
    """An inner loop's body returns to it, and its `done` branch returns to the outer loop."""
    nodes = [
        START,
        node("orders", "logic.loop", items="input.orders"),
        node("lines", "logic.loop", items="item.lines"),
        node("pick", "action.python", action="pick"),
        node("ship", "action.python", action="ship"),
        node("end", "flow.end"),
    ]
    edges = [
        edge("start", "orders"),
        edge("orders", "lines", "body"),
        edge("lines", "pick", "body"),
        edge("pick", "lines"),
        edge("lines", "ship", "done"),
        edge("ship", "orders"),
        edge("orders", "end", "done"),
    ]
    assert problems_of(nodes, edges) == []


def test_a_cycle_through_a_loop_outside_its_body_is_reported() -> None:
    """Returning to a loop from its `done` branch (not its body) is a cycle."""
    (problem,) = problems_of(*loop_graph(edge("end", "each", "error")))
    assert problem[2].startswith("'each' → 'end' → 'each' form a cycle outside any loop")


def test_a_loop_needs_a_body_edge() -> None:
    """A loop without a `body` edge has nothing to repeat."""
    nodes, _ = loop_graph()
    edges = [
        edge("start", "each"),
        edge("each", "send", "done"),
        edge("send", "count"),
        edge("count", "end"),
    ]
    problem = only(validate_graph(document(nodes, edges)))
    assert (problem.node, problem.field) == ("each", None)
    assert problem.message == "the loop has no 'body' edge to the steps it repeats for each item"


def join_graph(**config: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [
        START,
        node("fan", "logic.parallel"),
        node("credit", "action.python", action="credit_score"),
        node("fraud", "action.python", action="fraud_check"),
        node("merge", "logic.join", **config),
        node("end", "flow.end"),
    ]
    edges = [
        edge("start", "fan"),
        edge("fan", "credit"),
        edge("fan", "fraud"),
        edge("credit", "merge"),
        edge("fraud", "merge"),
        edge("merge", "end"),
    ]
    return nodes, edges


def test_a_join_needs_two_incoming_edges() -> None:
    """A join merges branches: one incoming edge is reported, two pass."""
    assert problems_of(*join_graph()) == []
    nodes, edges = join_graph()
    edges[4]["target"] = "end"
    assert problems_of(nodes, edges) == [
        ("merge", None, "a join merges branches: it needs at least 2 incoming edges, it has 1")
    ]


def test_a_join_count_cannot_exceed_its_incoming_edges() -> None:
    """In mode n, `count` must not be more than the edges leading into the join."""
    assert problems_of(*join_graph(mode="n", count=2)) == []
    assert problems_of(*join_graph(mode="n", count=3)) == [
        ("merge", "config.count", "the join waits for 3 branches but only 2 lead into it")
    ]


def compensated(target: str, *extra: dict[str, Any]) -> dict[str, Any]:
    graph = expense()
    graph["nodes"][2]["config"]["compensation"] = target
    graph["nodes"].append(node("undo", "action.python", action="cancel_vp_request"))
    graph["edges"].extend(extra)
    return graph


def test_a_compensation_node_needs_no_incoming_edge() -> None:
    """A node named as compensation is exempt from reachability and must have no inputs."""
    assert validate_graph(compensated("undo")) == []
    problem = only(validate_graph(compensated("undo", edge("vp", "undo", "error"))))
    assert (problem.node, problem.field) == ("vp", "config.compensation")
    assert problem.message.startswith("'undo' has incoming edges")


def test_a_compensation_must_name_another_action_node() -> None:
    """Compensation pointing at a missing node, itself, a trigger or a non-action is reported."""
    cases = {
        "ghost": "no node has the id 'ghost'",
        "vp": "a node cannot compensate itself",
        "start": "'start' is a trigger; a trigger cannot undo a step",
        "check": "'check' is a logic.condition node; compensations are action nodes",
    }
    for target, message in cases.items():
        problems = [p for p in validate_graph(compensated(target)) if p.node == "vp"]
        assert [(p.field, p.message) for p in problems] == [("config.compensation", message)]
