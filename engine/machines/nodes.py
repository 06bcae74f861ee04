"""Graph nodes that reach state machines: `machine.start` makes sure an instance exists and
`machine.send` sends one an event. They live in this room, which may import machines, and
register into the node library like any family; engine.apps imports this module at start-up.
"""

from typing import Any

from engine.core.errors import NonRetryableError
from engine.core.machine_code import MACHINE_SLUG
from engine.core.machines import EVENT_NAME
from engine.graph.nodes.base import NodeContext, NodeResult, NodeType, register
from engine.machines.definitions import UnknownMachine
from engine.machines.instances import (
    DuplicateInstance,
    MachineInputError,
    create_instance,
    send_event,
)
from engine.models import MachineInstance

_MACHINE = {"type": "string", "title": "Machine", "pattern": MACHINE_SLUG.pattern}
_KEY = {
    "type": "string",
    "title": "Instance key",
    "description": "The entity's id, e.g. order-{{ input.id }}.",
}


def _refuse(context: NodeContext, field: str, message: str) -> NonRetryableError:
    return NonRetryableError(f'node "{context.node_id}", field "{field}": {message}')


def _key(context: NodeContext) -> str:
    key = context.render("key")
    if not isinstance(key, str) or not key.strip():
        raise _refuse(context, "key", f"the instance key must be text, got {key!r}")
    return key


def _object(context: NodeContext, field: str) -> dict[str, Any]:
    value = context.render(field, {})
    if not isinstance(value, dict):
        raise _refuse(context, field, "must be an object")
    return value


def _start(context: NodeContext) -> NodeResult:
    slug, key = context.config["machine"], _key(context)
    initial = _object(context, "context")
    existing = MachineInstance.objects.filter(machine=slug, key=key).first()
    if existing is None:
        try:
            created = create_instance(slug, key, initial)
        except UnknownMachine:
            raise _refuse(context, "machine", f"no machine called {slug!r}") from None
        except MachineInputError as wrong:
            raise _refuse(context, wrong.field, wrong.message) from None
        except DuplicateInstance as duplicate:
            existing = duplicate.instance  # started at the same moment elsewhere
        else:
            return NodeResult(output={"instance": created.pk, "key": key, "created": True})
    return NodeResult(output={"instance": existing.pk, "key": key, "created": False})


def _send(context: NodeContext) -> NodeResult:
    slug, key = context.config["machine"], _key(context)
    instance = MachineInstance.objects.filter(machine=slug, key=key).first()
    if instance is None:
        raise _refuse(context, "key", f"{slug} has no instance {key!r}")
    try:
        # The step's idempotency key is the event's id: a retried attempt sends nothing new.
        event, queued = send_event(
            instance.pk,
            context.config["event"],
            _object(context, "data"),
            event_id=context.idempotency_key or None,
            source="workflow",
        )
    except MachineInputError as wrong:
        raise _refuse(context, wrong.field, wrong.message) from None
    return NodeResult(output={"instance": instance.pk, "event": event.pk, "queued": queued})


register(
    NodeType(
        type="machine.start",
        group="actions",
        title="Start machine instance",
        description="Makes sure a state machine has an instance for this key (created with "
        "this context if it is new); its output says whether it was created.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["machine", "key"],
            "properties": {
                "machine": _MACHINE,
                "key": _KEY,
                "context": {"type": "object", "title": "Context of a new instance"},
            },
        },
        templates=("key", "context"),
        execute=_start,
        error_handling=True,
        icon="flag",
    )
)

register(
    NodeType(
        type="machine.send",
        group="actions",
        title="Send machine event",
        description="Sends an event to a state machine's instance; it is applied in turn, "
        "like an event sent through the API.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["machine", "key", "event"],
            "properties": {
                "machine": _MACHINE,
                "key": _KEY,
                "event": {"type": "string", "title": "Event", "pattern": EVENT_NAME.pattern},
                "data": {"type": "object", "title": "Event data"},
            },
        },
        templates=("key", "data"),
        execute=_send,
        error_handling=True,
        icon="send",
    )
)
