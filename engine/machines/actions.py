"""Running one action of a transition as its own journaled step.

An action is a step of a code machine (called with the context and the event's data) or an
action node of the graph library (`{"type": "action.http", "config": {...}}`), run the way the
graph interpreter runs that node, its templates and CEL reading `context`, `event` (the
event's data), `instance` ({id, machine, key, state}) and `now`. What its output does to the
context is engine.core.machine_applying's rule.
"""

from collections.abc import Mapping
from typing import Any

from engine.core.definitions import StepDefinition
from engine.core.machine_applying import ActionCall
from engine.graph.program import CompiledNode, compile_node, run_node
from engine.machines.tasks import link_task


class UnrunnableAction(ValueError):
    """An action the engine cannot run inside a transition (it would suspend the run)."""


def run_action(call: ActionCall, *, key: str) -> Any:
    """Run the call's action as the step `call.name` (inside the applying workflow); its
    output."""
    action = call.action
    if isinstance(action, StepDefinition):
        return action.named(call.name)(*call.code_args)
    if not isinstance(action, Mapping):
        raise UnrunnableAction(f"{action!r} is neither a step nor an action node")
    node = compile_node(call.name, str(action.get("type")), action.get("config") or {})
    if node.type.group == "human":
        return _open_task(node, call, key)
    if node.type.suspends is not None:
        raise UnrunnableAction(f"{node.type.type} waits, and a transition cannot wait")
    step = StepDefinition(
        fn=lambda node_scope: run_node(node, node_scope), key=key, name=call.name, retry=node.retry
    )
    return step(dict(call.scope))["output"]


def _open_task(node: CompiledNode, call: ActionCall, key: str) -> Any:
    """A state's entry opens the task and moves on; the decision comes back as an event."""
    if call.phase != "entry":
        raise UnrunnableAction(f"{node.type.type} can only be a state's entry action")
    instance_id = int(call.scope["instance"]["id"])

    def open_and_link(node_scope: dict[str, Any]) -> dict[str, Any]:
        # One step: a crash between opening and linking replays both (the task's
        # (run, step) uniqueness makes the opening idempotent).
        opened = run_node(node, node_scope)
        link_task(int(opened["output"]["task"]), instance_id, call.where)
        return opened

    step = StepDefinition(fn=open_and_link, key=key, name=call.name, retry=node.retry)
    return step(dict(call.scope))["output"]
