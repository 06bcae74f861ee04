"""The JSON document of a graph workflow: its schema and a typed, read-only view of it.

`GRAPH_SCHEMA` checks the shape only (which keys, which types, the limits). What the shape cannot
say (known node types, their config, edges that lead somewhere, reachability, cycles) is checked
by `engine.graph.validate`. `Graph.from_document` expects a document that passed the schema.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from engine.graph.nodes.base import NORMAL

__all__ = [
    "GRAPH_SCHEMA",
    "MAX_EDGES",
    "MAX_NODES",
    "NODE_ID_PATTERN",
    "Edge",
    "Graph",
    "Node",
    "Position",
    "normalise_handle",
]

MAX_NODES = 1000
MAX_EDGES = 5000
NODE_ID_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,63}$"

GRAPH_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Stepwise graph workflow",
    "type": "object",
    "required": ["nodes", "edges"],
    "additionalProperties": False,
    "properties": {
        "nodes": {"type": "array", "maxItems": MAX_NODES, "items": {"$ref": "#/$defs/node"}},
        "edges": {"type": "array", "maxItems": MAX_EDGES, "items": {"$ref": "#/$defs/edge"}},
        "meta": {"type": "object", "description": "Free-form data the canvas keeps."},
    },
    "$defs": {
        "node": {
            "type": "object",
            "required": ["id", "type"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": NODE_ID_PATTERN},
                "type": {"type": "string", "minLength": 1, "maxLength": 100},
                "label": {"type": "string", "maxLength": 200},
                "config": {"type": "object", "default": {}},
                "position": {
                    "type": "object",
                    "required": ["x", "y"],
                    "additionalProperties": False,
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                },
            },
        },
        "edge": {
            "type": "object",
            "required": ["id", "source", "target"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1, "maxLength": 64},
                "source": {"type": "string", "minLength": 1},
                "target": {"type": "string", "minLength": 1},
                "handle": {"type": ["string", "null"], "maxLength": 64},
            },
        },
    },
}


def normalise_handle(handle: str | None) -> str:
    """The handle an edge leaves by: absent, null and "" all mean the normal output."""
    return handle or NORMAL


class Position(NamedTuple):
    x: float
    y: float


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    config: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    position: Position | None = None


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    handle: str = NORMAL
    """Always normalised: NORMAL ("") for the plain output, never None."""


@dataclass(frozen=True)
class Graph:
    """Nodes and edges in document order, with lookups by id."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "Graph":
        """Build the view of a document that already passed GRAPH_SCHEMA."""
        nodes = tuple(
            Node(
                id=raw["id"],
                type=raw["type"],
                config=raw.get("config", {}),
                label=raw.get("label", ""),
                position=(
                    Position(raw["position"]["x"], raw["position"]["y"])
                    if "position" in raw
                    else None
                ),
            )
            for raw in document["nodes"]
        )
        edges = tuple(
            Edge(
                id=raw["id"],
                source=raw["source"],
                target=raw["target"],
                handle=normalise_handle(raw.get("handle")),
            )
            for raw in document["edges"]
        )
        return cls(nodes, edges, document.get("meta", {}))

    @cached_property
    def _nodes_by_id(self) -> dict[str, Node]:
        by_id: dict[str, Node] = {}
        for node in self.nodes:
            # A duplicate id is a validation problem; the first node keeps the id meanwhile.
            by_id.setdefault(node.id, node)
        return by_id

    @cached_property
    def _outgoing(self) -> dict[str, tuple[Edge, ...]]:
        return _group(self.edges, lambda edge: edge.source)

    @cached_property
    def _incoming(self) -> dict[str, tuple[Edge, ...]]:
        return _group(self.edges, lambda edge: edge.target)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes_by_id

    def node(self, node_id: str) -> Node:
        """The node with this id; KeyError if there is none."""
        try:
            return self._nodes_by_id[node_id]
        except KeyError:
            raise KeyError(f"the graph has no node {node_id!r}") from None

    def outgoing(self, node_id: str, handle: str | None = None) -> tuple[Edge, ...]:
        """Edges leaving the node; with `handle`, only those leaving by it (NORMAL: plain)."""
        edges = self._outgoing.get(node_id, ())
        if handle is None:
            return edges
        wanted = normalise_handle(handle)
        return tuple(edge for edge in edges if edge.handle == wanted)

    def incoming(self, node_id: str) -> tuple[Edge, ...]:
        """Edges leading into the node."""
        return self._incoming.get(node_id, ())

    def successors(self, node_id: str, handle: str | None = None) -> Iterator[Node]:
        """The nodes the node's edges (by `handle`, if given) lead to."""
        for edge in self.outgoing(node_id, handle):
            if edge.target in self._nodes_by_id:
                yield self._nodes_by_id[edge.target]


def _group(edges: tuple[Edge, ...], key: Callable[[Edge], str]) -> dict[str, tuple[Edge, ...]]:
    grouped: dict[str, list[Edge]] = {}
    for edge in edges:
        grouped.setdefault(key(edge), []).append(edge)
    return {node_id: tuple(items) for node_id, items in grouped.items()}
