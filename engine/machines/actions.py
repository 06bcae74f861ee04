"""Running one action of a transition as its own journaled step, and what it does to the
context.

An action is a step of a code machine (called with the context and the event's data) or an
action node of the graph library (`{"type": "action.http", "config": {...}}`), run the way the
graph interpreter runs that node, its templates and CEL reading `context`, `event` (the
event's data), `instance` ({id, machine, key, state}) and `now`.

How actions update the context, one rule for both kinds: an action whose output is an object
with a `context` object merges that object into the context (its keys replace the context's
top-level keys); any other output is only recorded in the event's history. An `action.python`
whose function returns `{"context": {"paid": true}}` sets `context.paid`.
"""

from collections.abc import Mapping
from typing import Any

from engine.core.definitions import StepDefinition
from engine.graph.program import compile_node, run_node


class UnrunnableAction(ValueError):
    """An action the engine cannot run inside a transition (it would suspend the run)."""


def action_label(action: Any) -> str:
    if isinstance(action, StepDefinition):
        return action.name
    if isinstance(action, Mapping):
        return str(action.get("type", "action"))
    return type(action).__name__


def run_action(
    action: Any, *, name: str, key: str, scope: Mapping[str, Any], code_args: tuple[Any, ...]
) -> Any:
    """Run `action` as the step `name` (inside the applying workflow); its output."""
    if isinstance(action, StepDefinition):
        return action.named(name)(*code_args)
    if not isinstance(action, Mapping):
        raise UnrunnableAction(f"{action!r} is neither a step nor an action node")
    node = compile_node(name, str(action.get("type")), action.get("config") or {})
    if node.type.suspends is not None:
        raise UnrunnableAction(f"{node.type.type} waits, and a transition cannot wait")
    step = StepDefinition(
        fn=lambda node_scope: run_node(node, node_scope), key=key, name=name, retry=node.retry
    )
    return step(dict(scope))["output"]


def merged_context(context: dict[str, Any], output: Any) -> dict[str, Any]:
    """The context after an action that returned `output` (see the module's rule)."""
    if isinstance(output, Mapping) and isinstance(output.get("context"), Mapping):
        return {**context, **output["context"]}
    return context
