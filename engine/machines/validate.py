"""A machine document's problems: its structure (engine.core.machines) and every action's
config, checked by the node type it names as a graph node's would be."""

from collections.abc import Mapping
from typing import Any

from engine.core.machines import Problem, machine_problems
from engine.graph.nodes import CheckContext, get_node_type
from engine.graph.validate import validate_node_config

ACTION_GROUPS = ("actions",)
"""Node types a state or transition may run. People's tasks (human.*) are not among them yet:
a transition is applied in one go, and an approval would hold every later event of the
instance until someone decides; model it as a state whose events are the decisions."""


def definition_problems(document: Any, context: CheckContext | None = None) -> list[Problem]:
    problems = machine_problems(document)
    if not isinstance(document, Mapping):
        return problems
    for where, field, actions in _action_lists(document):
        for index, action in enumerate(actions):
            problems += _action_problems(where, f"{field}[{index}]", action, context)
    return problems


def _action_lists(document: Mapping[str, Any]) -> list[tuple[str, str, list[Any]]]:
    found: list[tuple[str, str, list[Any]]] = []
    for row in document.get("states") or []:
        if isinstance(row, Mapping) and isinstance(row.get("id"), str):
            for hook in ("entry", "exit"):
                if isinstance(row.get(hook), list):
                    found.append((row["id"], hook, row[hook]))
    for row in document.get("transitions") or []:
        if isinstance(row, Mapping) and isinstance(row.get("actions"), list):
            found.append((str(row.get("id")), "actions", row["actions"]))
    return found


def _action_problems(
    where: str, field: str, action: Any, context: CheckContext | None
) -> list[Problem]:
    if not isinstance(action, Mapping) or not isinstance(action.get("type"), str):
        return [Problem(where, field, 'an action is {"type": <node type>, "config": {...}}')]
    node_type = get_node_type(action["type"])
    if node_type is not None and node_type.group == "human":
        return [
            Problem(
                where,
                f"{field}.type",
                f"{action['type']} waits for people, which a transition cannot do: make the "
                "wait a state and its decisions events (send them with POST "
                "/api/instances/{id}/events)",
            )
        ]
    if node_type is not None and node_type.group not in ACTION_GROUPS:
        return [
            Problem(where, f"{field}.type", f"{action['type']} is not an action a state can run")
        ]
    found = (
        validate_node_config(action["type"], where, action.get("config", {}), context)
        if context is not None
        else validate_node_config(action["type"], where, action.get("config", {}))
    )
    return [
        Problem(where, f"{field}.{problem.field}" if problem.field else field, problem.message)
        for problem in found
    ]
