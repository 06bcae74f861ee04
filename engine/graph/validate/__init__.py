"""Everything wrong with a graph document, reported at once, each problem naming node and field.

Field paths are relative to the node for node problems (`config.cases[1].when`, `type`) and to
the document for the rest (`edges[3].target`, `nodes[0].id`); graph-level problems have no node.
The document shape is checked first: when it is broken, only those problems are reported,
because nothing past the shape can be read reliably. The checks live in four rooms:
`shape` (the quick document shape check), `structure` (edges, reachability, cycles, loops and
joins), `configs` (each node's config schema, expressions and templates) and `expressions`
(what each expression may read, checked against the declared types).
"""

from collections.abc import Mapping

from engine.graph.format import Graph
from engine.graph.nodes.base import CheckContext, NodeType, Problem
from engine.graph.nodes.library import get_node_type
from engine.graph.validate.configs import (
    check_config,
    config_schema,
    json_type,
    schema_problems,
    unknown_type,
)
from engine.graph.validate.expressions import expression_problems, trigger_input_problems
from engine.graph.validate.shape import GRAPH_VALIDATOR, fits_graph_schema
from engine.graph.validate.structure import (
    compensation_problems,
    compensation_targets,
    cycles,
    duplicate_ids,
    edge_problems,
    four_eyes_problems,
    is_trigger,
    loops_and_joins,
    unreachable,
)

__all__ = ["config_schema", "validate_graph", "validate_node_config"]

_DEFAULT_CONTEXT = CheckContext()


def validate_graph(document: object, context: CheckContext = _DEFAULT_CONTEXT) -> list[Problem]:
    """Every problem of a graph document; an empty list means it can be published."""
    if not fits_graph_schema(document):
        shape = schema_problems(GRAPH_VALIDATOR, document, prefix="", node=None)
        if shape:
            return shape
    assert isinstance(document, Mapping)
    graph = Graph.from_document(document)
    problems: list[Problem] = []
    problems += duplicate_ids(graph)

    types: dict[str, NodeType] = {}
    handles: dict[str, tuple[str, ...]] = {}
    valid_config: set[str] = set()
    for node in graph.nodes:
        node_type = get_node_type(node.type)
        if node_type is None:
            problems.append(Problem(node.id, "type", unknown_type(node.type)))
            continue
        found, config_ok = check_config(node_type, node.id, node.config)
        problems += found
        if node.id in types:
            continue
        types[node.id] = node_type
        if config_ok:
            valid_config.add(node.id)
            handles[node.id] = node_type.handles(node.config)
        else:
            # A broken config may break `handles` too; its edges are checked once it is fixed.
            try:
                handles[node.id] = node_type.handles(node.config)
            except Exception:  # noqa: S112
                continue

    triggers = [node.id for node in graph.nodes if is_trigger(types.get(node.id))]
    problems += edge_problems(graph, types, handles)
    compensations = compensation_targets(graph, types)
    if triggers:
        problems += unreachable(graph, triggers, compensations)
    else:
        problems.append(Problem(None, None, "the graph needs a trigger"))
    problems += cycles(graph, types)
    problems += loops_and_joins(graph, types, valid_config)
    problems += compensation_problems(graph, types)
    problems += four_eyes_problems(graph, types)
    problems += expression_problems(graph, types, valid_config)
    problems += trigger_input_problems(graph, types, valid_config)

    for node in graph.nodes:
        node_type = types.get(node.id)
        if node_type is not None and node_type.check is not None and node.id in valid_config:
            problems += node_type.check(node.id, node.config, context)
    return problems


def validate_node_config(
    type_name: str,
    node_id: str,
    config: object,
    context: CheckContext = _DEFAULT_CONTEXT,
) -> list[Problem]:
    """The problems of one node's config on its own (no edges, no other nodes)."""
    node_type = get_node_type(type_name)
    if node_type is None:
        return [Problem(node_id, "type", unknown_type(type_name))]
    if not isinstance(config, Mapping):
        return [Problem(node_id, "config", f"must be an object, not {json_type(config)}")]
    problems, config_ok = check_config(node_type, node_id, config)
    if config_ok and node_type.check is not None:
        problems += node_type.check(node_id, config, context)
    return problems
