"""Moving an instance to another version of its machine: an operator's explicit act.

Publishing never changes running instances. An operator may move one to another published
version, saying which state each old state becomes (a state of the same name is kept when the
map says nothing); the move is recorded in the instance's history as a `@migrate` event, and
the delayed transitions of the state it lands in count from then.
"""

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.core.machines import MachineError
from engine.machines.definitions import CODE_VERSION, UnknownMachine, pinned_machine
from engine.machines.instances import MachineInputError
from engine.machines.queue import announce_on_commit
from engine.machines.tasks import withdraw_left_tasks
from engine.models import (
    InstanceStatus,
    MachineEvent,
    MachineEventStatus,
    MachineInstance,
    MachineTimer,
)

MIGRATE = "@migrate"


def migrate_instance(
    instance_id: int,
    version: Any,
    states: Any = None,
    *,
    actor: User | None = None,
) -> MachineEvent:
    """Pin the instance to `version`, its state mapped through `states` ({old: new}).

    Refused, changing nothing, with MachineInputError naming the field: a version that does not
    exist, a map that is not {text: text}, a state the new version lacks, an instance with
    events still to apply (they were sent against the old version) or in a final state.
    Raises MachineInstance.DoesNotExist for an unknown instance.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version <= CODE_VERSION:
        raise MachineInputError("version", "a published version number (1, 2, …)")
    mapping = _state_map(states)
    with transaction.atomic():
        instance = MachineInstance.objects.select_for_update().get(pk=instance_id)
        if instance.version == CODE_VERSION:
            raise MachineInputError("version", "a code machine has no published versions")
        if instance.status == InstanceStatus.FINAL:
            raise MachineInputError("version", "the instance is in a final state")
        if (
            instance.applying_id is not None
            or instance.events.filter(
                status__in=[MachineEventStatus.PENDING, MachineEventStatus.APPLYING]
            ).exists()
        ):
            raise MachineInputError("version", "events are still being applied; try again")
        try:
            target = pinned_machine(instance.machine, version).definition
        except UnknownMachine:
            raise MachineInputError(
                "version", f"{instance.machine} has no version {version}"
            ) from None
        old_state = instance.state
        new_state = mapping.get(old_state, old_state)
        if new_state not in target.states:
            raise MachineInputError(
                f"states.{old_state}",
                f"v{version} has no state {new_state!r}: map {old_state!r} to one of "
                + ", ".join(sorted(target.states)),
            )
        try:
            leaf = target.settle(new_state)
        except MachineError as error:
            raise MachineInputError(f"states.{old_state}", str(error)) from None
        now = timezone.now()
        from_version = instance.version
        instance.version = version
        if leaf != old_state:
            instance.state = leaf
            instance.entered_at = now
        if target.is_final(leaf):
            instance.status = InstanceStatus.FINAL
        instance.updated_at = now
        instance.save(update_fields=["version", "state", "entered_at", "status", "updated_at"])
        # A task of a state the instance is no longer in asks what no longer matters.
        withdraw_left_tasks(instance, target, run_id=None, applied=True, exited=())
        MachineTimer.objects.filter(instance=instance).delete()
        if instance.status != InstanceStatus.FINAL:
            MachineTimer.objects.bulk_create(
                MachineTimer(
                    instance=instance,
                    transition=t.id,
                    entered_at=now,
                    due_at=now + timedelta(seconds=t.after_seconds or 0),
                )
                for t in target.transitions
                if t.after_seconds is not None and t.source in target.path(leaf)
            )
        event = MachineEvent.objects.create(
            instance=instance,
            event_id=f"migrate-{uuid.uuid4()}",
            name=MIGRATE,
            data={"from_version": from_version, "to_version": version, "states": mapping},
            source="operator",
            status=MachineEventStatus.APPLIED,
            from_state=old_state,
            to_state=leaf,
            reason=f"moved from v{from_version} to v{version}",
            actor=actor,
            received_at=now,
            applied_at=now,
        )
        announce_on_commit(instance)
    return event


def _state_map(states: Any) -> dict[str, str]:
    if states is None:
        return {}
    if not isinstance(states, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in states.items()
    ):
        raise MachineInputError("states", 'a map of old state to new state: {"old": "new"}')
    return dict(states)
