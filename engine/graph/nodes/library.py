"""The node library: importing the family modules registers every node type; the lookups
here read them. Families import only base, so the registry and the families never import each
other back."""

from engine.graph.nodes import (
    ai,
    email,
    flow,
    http,
    human,
    logic,
    python_action,
    records,
    run_log,
    triggers,
)
from engine.graph.nodes.base import GROUPS, NodeType, registered_types

FAMILIES = (ai, email, flow, http, human, logic, python_action, records, run_log, triggers)


def get_node_type(type_name: str) -> NodeType | None:
    return registered_types().get(type_name)


def all_node_types() -> list[NodeType]:
    return sorted(registered_types().values(), key=lambda t: (GROUPS.index(t.group), t.type))
