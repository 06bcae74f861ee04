"""The node library: every node type the canvas offers and the engine runs."""

from engine.graph.nodes.base import (
    ERROR,
    NORMAL,
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)
from engine.graph.nodes.library import all_node_types, get_node_type

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
