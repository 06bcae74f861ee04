"""Engine actions on instances: creating one, and sending it an event.

Both only queue: the instance's row is locked, the event is stored as pending and, when no
run is applying one, a run starts applying the oldest (engine.machines.applying). Creating an
instance queues its `@start` event, which runs the initial state's entry actions.
"""

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.core.machine_applying import START
from engine.core.machines import EVENT_NAME, TASK_EVENT_PREFIX
from engine.core.values import to_json_value
from engine.machines.definitions import newest_machine
from engine.machines.queue import announce_on_commit, apply_next_locked
from engine.models import MachineEvent, MachineInstance

KEY_MAX = 200
EVENT_ID_MAX = 200


class MachineInputError(ValueError):
    """Bad input: the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class DuplicateInstance(ValueError):
    """The machine has an instance with this key already."""

    def __init__(self, instance: MachineInstance) -> None:
        self.instance = instance
        super().__init__(f"{instance.machine} has an instance {instance.key!r} already")


def create_instance(
    slug: str,
    key: Any,
    context: Any = None,
    *,
    actor: User | None = None,
) -> MachineInstance:
    """A new instance of the newest version of `slug`, keyed by an entity id.

    Raises UnknownMachine, MachineInputError naming the field, or DuplicateInstance.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX:
        raise MachineInputError("key", f"the entity's id, 1 to {KEY_MAX} characters")
    if context is not None and not isinstance(context, dict):
        raise MachineInputError("context", "must be a JSON object")
    pinned = newest_machine(slug)
    now = timezone.now()
    instance = MachineInstance(
        machine=slug,
        version=pinned.version,
        key=key,
        # The leaf it starts in; the @start event runs the entry actions that lead there.
        state=pinned.definition.start(),
        context=to_json_value({**pinned.definition.context, **(context or {})}),
        entered_at=now,
        created_at=now,
        updated_at=now,
        created_by=actor,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            raise DuplicateInstance(MachineInstance.objects.get(machine=slug, key=key)) from None
        _queue(instance, START, {}, event_id=START, actor=actor, source="engine")
        apply_next_locked(instance)
        announce_on_commit(instance)
    return instance


def send_event(
    instance_id: int,
    name: Any,
    data: Any = None,
    *,
    event_id: Any = None,
    actor: User | None = None,
    source: str = "api",
) -> tuple[MachineEvent, bool]:
    """Queue an event for an instance; (the event, whether it is new).

    A repeated `event_id` returns the event stored the first time and changes nothing. Raises
    MachineInputError naming the field, or MachineInstance.DoesNotExist.
    """
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise MachineInputError("event", "an event name: letters, digits, _ . - (max 100)")
    if name.startswith(TASK_EVENT_PREFIX):
        # A decision is taken in the inbox by the task's assignees, never posted as an event.
        raise MachineInputError(
            "event", f"{name} comes only from a decision on the instance's task, in the inbox"
        )
    return send_internal_event(
        instance_id, name, data, event_id=event_id, actor=actor, source=source
    )


def send_internal_event(
    instance_id: int,
    name: str,
    data: Any = None,
    *,
    event_id: Any = None,
    actor: User | None = None,
    source: str = "engine",
) -> tuple[MachineEvent, bool]:
    """send_event without the check of the name: the engine's own events (`after:...`)."""
    if data is not None and not isinstance(data, dict):
        raise MachineInputError("data", "must be a JSON object")
    if event_id is not None and (
        not isinstance(event_id, str) or not event_id or len(event_id) > EVENT_ID_MAX
    ):
        raise MachineInputError("id", f"an id of 1 to {EVENT_ID_MAX} characters")
    with transaction.atomic():
        # The lock orders this event after every event already queued and serialises it with
        # the run that commits the event being applied (which starts the next one).
        instance = MachineInstance.objects.select_for_update().get(pk=instance_id)
        if event_id is not None:
            existing = MachineEvent.objects.filter(instance=instance, event_id=event_id).first()
            if existing is not None:
                return existing, False
        event = _queue(
            instance,
            name,
            to_json_value(data or {}),
            event_id=event_id or str(uuid.uuid4()),
            actor=actor,
            source=source,
        )
        apply_next_locked(instance)
        announce_on_commit(instance)
    return event, True


def _queue(
    instance: MachineInstance,
    name: str,
    data: dict[str, Any],
    *,
    event_id: str,
    actor: User | None,
    source: str,
) -> MachineEvent:
    return MachineEvent.objects.create(
        instance=instance,
        event_id=event_id,
        name=name,
        data=data,
        source=source[:20],
        actor=actor,
        received_at=timezone.now(),
    )
