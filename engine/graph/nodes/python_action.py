"""`action.python` calls a registered Python action by name; `action.emit` emits an event."""

from collections.abc import Mapping
from typing import Any

from engine.core.definitions import get_action
from engine.core.errors import NonRetryableError
from engine.core.retry import Retry
from engine.core.triggers import EVENT_TYPE_PATTERN, reserved_event_type_problem
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)
from engine.inbound.events import EventInputError, deliver_event


class UnknownAction(NonRetryableError):
    pass


def _python(context: NodeContext) -> NodeResult:
    name = context.config["action"]
    action = get_action(name)
    if action is None:
        raise UnknownAction(f"no Python action called {name!r} is registered")
    arguments = context.render("args", {})
    return NodeResult(output=action.fn(**arguments))


def _action_retry(config: Mapping[str, Any]) -> Retry | None:
    """Without a retry policy of its own, the node retries as the action was declared to."""
    action = get_action(str(config.get("action", "")))
    return action.retry if action is not None else None


def _check_python(node: str, config: Mapping[str, Any], world: CheckContext) -> list[Problem]:
    name = config.get("action")
    if isinstance(name, str) and not world.action_exists(name):
        return [Problem(node, "config.action", f"no Python action called {name!r}")]
    return []


def _check_emit(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    # The `id` template renders only at run time, where deliver_event checks it.
    problem = reserved_event_type_problem(config["type"])
    return [] if problem is None else [Problem(node, "config.type", problem)]


def _emit(context: NodeContext) -> NodeResult:
    payload = context.render("payload", {})
    if not isinstance(payload, dict):
        raise NonRetryableError(f'node "{context.node_id}", field "payload": must be an object')
    try:
        delivery = deliver_event(
            context.config["type"],
            payload,
            event_id=context.render("id") or None,
            # The step's idempotency key is the default id: a retried attempt emits nothing new.
            internal_id=context.idempotency_key or None,
            source="workflow",
            emitted_by=context.run_id or None,
        )
    except EventInputError as error:
        # The rendered id is known only now; another attempt would render the same one.
        raise NonRetryableError(
            f'node "{context.node_id}", field "{error.field}": {error.message}'
        ) from None
    return NodeResult(
        output={"id": delivery.event.event_id, "type": delivery.event.type, "payload": payload}
    )


register(
    NodeType(
        type="action.python",
        group="actions",
        title="Python action",
        description="Calls a Python function registered with @action(name), with these arguments.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["action"],
            "properties": {
                "action": {"type": "string", "title": "Action"},
                "args": {
                    "type": "object",
                    "title": "Arguments",
                    "description": "Keyword arguments; strings may hold {{ templates }}.",
                },
            },
        },
        templates=("args",),
        execute=_python,
        side_effects=True,
        error_handling=True,
        check=_check_python,
        icon="code",
        default_retry=_action_retry,
    )
)

register(
    NodeType(
        type="action.emit",
        group="actions",
        title="Emit event",
        description="Emits an event (Noun.verb) that starts workflows and wakes waiting runs.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "title": "Event type", "pattern": EVENT_TYPE_PATTERN},
                "payload": {"type": "object", "title": "Payload"},
                "id": {
                    "type": "string",
                    "title": "Event id",
                    "description": "Duplicates are dropped.",
                },
            },
        },
        templates=("payload", "id"),
        execute=_emit,
        side_effects=True,
        error_handling=True,
        check=_check_emit,
        icon="send",
    )
)
