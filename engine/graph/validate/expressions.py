"""What each node's expressions may read, and the static check of what they do read.

The scope of a node follows the interpreter (engine.graph.interpreter.Walk.scope): `input` is
typed by the trigger's input schema, `nodes.<id>.output` holds only the nodes upstream (an edge
path leads from them to this node), typed by their declared output schema, `item` and `index`
exist inside a loop's body, and a node type may declare another scope (an event trigger's filter
sees only `event`). engine.core.cel_check does the checking; this module knows the graph.
"""

from collections.abc import Mapping
from typing import Any

from engine.core.cel_check import ANY, CelType, check_types, from_json_schema
from engine.core.expressions import ExpressionError, compile_expression
from engine.graph.format import Graph
from engine.graph.nodes.base import NodeType, Problem
from engine.graph.validate.configs import values_at
from engine.runtime.inputs import first_input_problem

__all__ = [
    "expression_problems",
    "input_type",
    "node_scope",
    "trigger_input_problems",
    "upstream_of",
]

_DOCS = {
    "input": "The run's input",
    "vars": "Variables set by flow.set steps so far",
    "nodes": "Outputs of the steps upstream of this one",
    "now": "The current time (a timestamp)",
    "event": "The event's payload",
    "item": "The current item of the loop",
    "index": "The current item's position in the loop (from 0)",
}


def upstream_of(graph: Graph, node_id: str) -> list[str]:
    """The nodes with a path of edges to `node_id`, nearest first."""
    seen: list[str] = []
    frontier = [node_id]
    while frontier:
        current = frontier.pop(0)
        for edge in graph.incoming(current):
            if edge.source not in seen and edge.source != node_id and edge.source in graph:
                seen.append(edge.source)
                frontier.append(edge.source)
    return seen


def _in_loop_body(
    graph: Graph, types: Mapping[str, NodeType], node_id: str, upstream: list[str]
) -> bool:
    """Whether a loop's body edges lead here: then `item` and `index` are set."""
    reached = {node_id, *upstream}
    for candidate in upstream:
        node_type = types.get(candidate)
        if node_type is not None and node_type.loop is not None:
            body = {edge.target for edge in graph.outgoing(candidate, node_type.loop.body)}
            if body & reached:
                return True
    return False


def input_schema(graph: Graph, types: Mapping[str, NodeType]) -> dict[str, Any] | None:
    """The run input's JSON Schema, as the first trigger that declares one gives it."""
    for node in graph.nodes:
        node_type = types.get(node.id)
        if node_type is not None and node_type.is_trigger and node_type.input_schema is not None:
            schema = node_type.input_schema(node.config)
            if schema is not None:
                return schema
    return None


def input_type(graph: Graph, types: Mapping[str, NodeType]) -> CelType:
    schema = input_schema(graph, types)
    if schema is None:
        return CelType("any", doc=_DOCS["input"])
    return from_json_schema(schema, _DOCS["input"])


def trigger_input_problems(
    graph: Graph, types: Mapping[str, NodeType], valid_config: set[str]
) -> list[Problem]:
    """A schedule trigger's fixed input must match the input schema (`{}` when not given):
    a mismatch would otherwise fail every run it starts."""
    schema = input_schema(graph, types)
    if schema is None:
        return []
    problems = []
    for node in graph.nodes:
        node_type = types.get(node.id)
        if node_type is None or "schedule" not in node_type.started_by:
            continue
        if node.id not in valid_config:
            continue
        problem = first_input_problem(schema, node.config.get("input", {}))
        if problem is not None:
            message = f"does not match the workflow's input schema: {problem}"
            problems.append(Problem(node.id, "config.input", message))
    return problems


def node_scope(
    graph: Graph, types: Mapping[str, NodeType], node_id: str, *, input: CelType | None = None
) -> dict[str, CelType]:
    """Each name the node's expressions may use, with its type."""
    node_type = types.get(node_id)
    names = node_type.expression_scope if node_type is not None else ()
    upstream = upstream_of(graph, node_id)
    scope: dict[str, CelType] = {}
    for name in names:
        if name == "input":
            scope[name] = input or input_type(graph, types)
        elif name == "nodes":
            scope[name] = _nodes_type(graph, types, node_id, upstream)
        elif name == "vars":
            scope[name] = CelType("map", doc=_DOCS[name])
        elif name == "now":
            scope[name] = CelType("timestamp", doc=_DOCS[name])
        else:
            scope[name] = CelType("any", doc=_DOCS.get(name, ""))
    if "nodes" in names and _in_loop_body(graph, types, node_id, upstream):
        scope["item"] = CelType("any", doc=_DOCS["item"])
        scope["index"] = CelType("number", doc=_DOCS["index"])
    return scope


def _nodes_type(
    graph: Graph, types: Mapping[str, NodeType], node_id: str, upstream: list[str]
) -> CelType:
    fields: dict[str, CelType] = {}
    for source in upstream:
        node_type = types.get(source)
        output = ANY
        if node_type is not None and node_type.output_schema is not None:
            output = from_json_schema(node_type.output_schema(graph.node(source).config))
        label = graph.node(source).label or source
        fields[source] = CelType(
            "map",
            fields={"output": output},
            doc=f"{label} ({node_type.type if node_type else '?'})",
        )

    def unknown(name: str) -> str:
        if name == node_id:
            return f"a step cannot read its own output ('nodes.{name}')"
        if name in graph:
            return (
                f"node '{name}' is not upstream of '{node_id}': no path of edges leads from it "
                "here, so its output is not there when this step runs"
            )
        listed = ", ".join(upstream) or "none"
        return f"no node '{name}' in the graph (upstream of '{node_id}': {listed})"

    return CelType("map", fields=fields, doc=_DOCS["nodes"], unknown_field=unknown)


def expression_problems(
    graph: Graph, types: Mapping[str, NodeType], valid_config: set[str]
) -> list[Problem]:
    """Type problems of every expression of the nodes whose config is valid."""
    problems: list[Problem] = []
    run_input = input_type(graph, types)
    for node in graph.nodes:
        node_type = types.get(node.id)
        if node_type is None or not node_type.expressions or node.id not in valid_config:
            continue
        scope: dict[str, CelType] | None = None
        for path in node_type.expressions:
            for field, value in values_at(node.config, path):
                if not isinstance(value, str):
                    continue
                try:
                    compile_expression(value)
                except ExpressionError:
                    continue  # the config check reported it already
                if scope is None:
                    scope = node_scope(graph, types, node.id, input=run_input)
                problems += [
                    Problem(node.id, field, found.message) for found in check_types(value, scope)
                ]
    return problems
