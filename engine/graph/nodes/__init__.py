"""The node library: every node type the canvas offers and the engine runs."""

from engine.graph.nodes.base import (
    ERROR,
    NORMAL,
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    all_node_types,
    get_node_type,
    register,
)

__all__ = [
    "ERROR",
    "NORMAL",
    "CheckContext",
    "NodeContext",
    "NodeResult",
    "NodeType",
    "Problem",
    "all_node_types",
    "get_node_type",
    "register",
]
