"""The document schema rejects broken shapes with readable problems; Graph answers lookups."""

import pytest

from engine.graph.format import MAX_EDGES, MAX_NODES, Graph, Position
from engine.graph.nodes.base import NORMAL
from engine.graph.validate import validate_graph
from tests.engine.graph.builders import document, edge, expense, node, where


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], [(None, None, "must be an object, not a list")]),
        ({"nodes": []}, [(None, "edges", "is required")]),
        (
            {"nodes": [], "edges": [], "layout": {}},
            [(None, "layout", "unknown key 'layout' (known keys: edges, meta, nodes)")],
        ),
        ({"nodes": {}, "edges": []}, [(None, "nodes", "must be a list, not an object")]),
    ],
)
def test_the_top_level_needs_nodes_and_edges_only(document: object, expected: list[object]) -> None:
    """The document is an object with `nodes` and `edges` lists and nothing else but `meta`."""
    problems = validate_graph(document)
    assert [(p.node, p.field, p.message) for p in problems] == expected


def test_meta_is_allowed() -> None:
    """An optional `meta` object passes the shape check."""
    graph = expense()
    graph["meta"] = {"viewport": {"zoom": 1.5}}
    assert validate_graph(graph) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": "9lives"}, "nodes[1].id", "must start with a letter"),
        ({"id": "a" * 65}, "nodes[1].id", "must start with a letter"),
        ({"id": 7}, "nodes[1].id", "must be text, not a whole number"),
        ({"type": ""}, "nodes[1].type", "must not be empty"),
        ({"label": "x" * 201}, "nodes[1].label", "must be at most 200 characters (it has 201)"),
        ({"config": []}, "nodes[1].config", "must be an object, not a list"),
        ({"position": {"x": 1}}, "nodes[1].position.y", "is required"),
        ({"position": {"x": 1, "y": "2"}}, "nodes[1].position.y", "must be a number, not text"),
        ({"colour": "red"}, "nodes[1].colour", "unknown key 'colour'"),
    ],
)
def test_node_shape_problems_name_the_field(
    change: dict[str, object], field: str, message: str
) -> None:
    """A malformed node is reported at `nodes[i].<key>` with a readable message."""
    graph = expense()
    graph["nodes"][1].update(change)
    problems = validate_graph(graph)
    assert where(problems) == [(None, field)]
    assert problems[0].message.startswith(message)


def test_a_node_needs_id_and_type_but_not_config() -> None:
    """`id` and `type` are required; `config`, `label` and `position` are optional."""
    graph = expense()
    del graph["nodes"][1]["id"], graph["nodes"][1]["type"]
    assert where(validate_graph(graph)) == [(None, "nodes[1].id"), (None, "nodes[1].type")]
    del graph["nodes"][0]["config"]
    graph["nodes"][1].update(id="check", type="logic.condition", label="Over 1000?")
    graph["nodes"][1]["position"] = {"x": 240, "y": 80.5}
    assert validate_graph(graph) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": ""}, "edges[0].id", "must not be empty"),
        ({"id": "e" * 65}, "edges[0].id", "must be at most 64 characters"),
        ({"handle": 1}, "edges[0].handle", "must be text or null, not a whole number"),
        ({"target": None}, "edges[0].target", "must be text, not null"),
        ({"label": "x"}, "edges[0].label", "unknown key 'label'"),
    ],
)
def test_edge_shape_problems_name_the_field(
    change: dict[str, object], field: str, message: str
) -> None:
    """A malformed edge is reported at `edges[i].<key>`."""
    graph = expense()
    graph["edges"][0].update(change)
    problems = validate_graph(graph)
    assert where(problems) == [(None, field)]
    assert problems[0].message.startswith(message)


def test_size_limits_hold() -> None:
    """At most MAX_NODES nodes and MAX_EDGES edges."""
    nodes = [node(f"n{index}", "flow.end") for index in range(MAX_NODES + 1)]
    edges = [edge("n0", "n1", id=f"e{index}") for index in range(MAX_EDGES + 1)]
    problems = validate_graph(document(nodes, edges))
    assert [(p.field, p.message) for p in problems] == [
        ("edges", f"must hold at most {MAX_EDGES} items (it has {MAX_EDGES + 1})"),
        ("nodes", f"must hold at most {MAX_NODES} items (it has {MAX_NODES + 1})"),
    ]


def test_a_broken_shape_stops_validation_there() -> None:
    """Past a shape problem nothing else is reported (the unknown type here is not)."""
    graph = expense()
    graph["nodes"].append({"id": "x", "type": "no.such", "label": 3})
    assert where(validate_graph(graph)) == [(None, "nodes[4].label")]


def test_graph_reads_the_document_with_normalised_handles() -> None:
    """Graph keeps document order, defaults config/label, and reads null and "" as NORMAL."""
    graph = Graph.from_document(
        {
            "nodes": [
                {"id": "a", "type": "trigger.manual", "position": {"x": 1, "y": 2.5}},
                {"id": "b", "type": "logic.condition", "label": "B", "config": {"k": 1}},
                {"id": "c", "type": "flow.end"},
            ],
            "edges": [
                {"id": "e1", "source": "a", "target": "b", "handle": None},
                {"id": "e2", "source": "b", "target": "c", "handle": "true"},
                {"id": "e3", "source": "b", "target": "c", "handle": ""},
                {"id": "e4", "source": "a", "target": "c"},
            ],
            "meta": {"v": 1},
        }
    )
    assert [n.id for n in graph.nodes] == ["a", "b", "c"]
    assert graph.node("a").config == {} and graph.node("a").label == ""
    assert graph.node("a").position == Position(1, 2.5)
    assert graph.node("b").label == "B" and graph.node("b").position is None
    assert [e.handle for e in graph.edges] == [NORMAL, "true", NORMAL, NORMAL]
    assert [e.id for e in graph.outgoing("a")] == ["e1", "e4"]
    assert [e.id for e in graph.outgoing("b", "true")] == ["e2"]
    assert [e.id for e in graph.outgoing("b", NORMAL)] == ["e3"]
    assert [e.id for e in graph.incoming("c")] == ["e2", "e3", "e4"]
    assert graph.incoming("a") == () and graph.outgoing("zz") == ()
    assert [n.id for n in graph.successors("b", "true")] == ["c"]
    assert "a" in graph and "zz" not in graph
    assert graph.meta == {"v": 1}
    with pytest.raises(KeyError, match="no node 'zz'"):
        graph.node("zz")
