"""The two steps of applying an event that touch the tables: reading the instance as the run
begins, and committing what the event did in one transaction.

Both are steps, so each may run again after a crash between its transaction and its journal
entry: `commit` changes nothing once the event left `applying`.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.core.machine_applying import timer_changes
from engine.core.machines import MachineDefinition
from engine.machines.definitions import pinned_machine
from engine.machines.queue import announce_on_commit, apply_next_locked
from engine.machines.tasks import withdraw_left_tasks
from engine.models import (
    InstanceStatus,
    MachineEvent,
    MachineEventStatus,
    MachineInstance,
    MachineTimer,
)


def snapshot(event_pk: int) -> dict[str, Any] | None:
    event = MachineEvent.objects.select_related("instance").get(pk=event_pk)
    if event.status != MachineEventStatus.APPLYING:
        return None
    instance = event.instance
    return {
        "instance": instance.pk,
        "machine": instance.machine,
        "version": instance.version,
        "key": instance.key,
        "state": instance.state,
        "context": instance.context,
        "entered_at": instance.entered_at.isoformat(),
        "event": event.name,
        "data": event.data,
    }


def commit(event_pk: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """Record the event's outcome; when applied, the instance's new state, context and timers.
    Then start the next queued event."""
    with transaction.atomic():
        instance_pk = MachineEvent.objects.values_list("instance_id", flat=True).get(pk=event_pk)
        # Lock order everywhere: the instance's row first (senders and the timer sweeper too).
        instance = MachineInstance.objects.select_for_update().get(pk=instance_pk)
        event = MachineEvent.objects.get(pk=event_pk)
        if event.status != MachineEventStatus.APPLYING:
            return {"committed": False, "status": event.status}
        now = timezone.now()
        event.status = outcome["status"]
        event.from_state = outcome.get("from", "")
        event.to_state = outcome.get("to", "")
        event.transition = outcome.get("transition", "")[:100]
        event.reason = outcome.get("reason", "")
        event.guard = outcome.get("guard", "")
        event.actions = outcome.get("actions", [])
        event.applied_at = now
        event.save(
            update_fields=[
                "status",
                "from_state",
                "to_state",
                "transition",
                "reason",
                "guard",
                "actions",
                "applied_at",
            ]
        )
        applied = event.status == MachineEventStatus.APPLIED
        if applied:
            _apply(instance, outcome)
        withdraw_left_tasks(
            instance,
            pinned_machine(instance.machine, instance.version).definition,
            run_id=event.run_id,
            applied=applied,
            exited=[state for move in outcome.get("moves", []) for state in move["exited"]],
        )
        instance.applying = None
        instance.updated_at = now
        instance.save(
            update_fields=["state", "context", "status", "entered_at", "applying", "updated_at"]
        )
        apply_next_locked(instance)
        announce_on_commit(instance)
    return {"committed": True, "status": event.status, "state": instance.state}


def _apply(instance: MachineInstance, outcome: dict[str, Any]) -> None:
    definition = pinned_machine(instance.machine, instance.version).definition
    at = datetime.fromisoformat(outcome["at"])
    instance.context = outcome["context"]
    moves = outcome.get("moves", [])
    if moves:
        instance.state = outcome["to"]
        instance.entered_at = at
        _reset_timers(instance, definition, moves, at)
    if definition.is_final(instance.state):
        instance.status = InstanceStatus.FINAL
        MachineTimer.objects.filter(instance=instance).delete()


def _reset_timers(
    instance: MachineInstance,
    definition: MachineDefinition,
    moves: list[dict[str, Any]],
    at: datetime,
) -> None:
    dropped, started = timer_changes(definition, moves)
    MachineTimer.objects.filter(instance=instance, transition__in=dropped).delete()
    MachineTimer.objects.bulk_create(
        MachineTimer(
            instance=instance,
            transition=t.id,
            entered_at=at,
            due_at=at + timedelta(seconds=t.after_seconds or 0),
        )
        for t in started
    )
