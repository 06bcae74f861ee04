"""Property: the graph validator never raises, whatever it is given — random JSON, or graphs
built from real node types with random configs and edges: it only reports problems, each
naming a field."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.graph.nodes import all_node_types
from engine.graph.validate import validate_graph

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=8),
    st.sampled_from(["{{ input.x }}", "input.amount > 1000", "{{", "1d", "0 9 * * *", "x@y"]),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
TYPES = sorted(node_type.type for node_type in all_node_types())


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=5))
    nodes = []
    for node_id in ids:
        node_type = draw(st.sampled_from(TYPES))
        config = draw(st.one_of(JSON, st.dictionaries(st.text(max_size=12), JSON, max_size=5)))
        nodes.append({"id": node_id, "type": node_type, "config": config,
                      "position": {"x": 0, "y": 0}})  # fmt: skip
    edges = (
        [
            {
                "id": f"e{n}",
                "source": draw(st.sampled_from(ids)),
                "target": draw(st.sampled_from(ids)),
                **({"handle": draw(st.text(max_size=6))} if draw(st.booleans()) else {}),
            }
            for n in range(draw(st.integers(0, 6)))
        ]
        if ids
        else []
    )
    return {"nodes": nodes, "edges": edges}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, graphs()))
def test_the_validator_reports_and_never_raises(document: Any) -> None:
    problems = validate_graph(document)
    assert isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem.message, str) and problem.message
        assert problem.field is None or isinstance(problem.field, str)
