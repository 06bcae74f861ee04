"""Reading instances for the API, the admin and later the cockpit: one instance with what it
may do now, and a machine's instances filtered by state and time in state."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from engine.core.machine_code import get_machine
from engine.core.machine_moves import allowed_events
from engine.core.machines import TASK_EVENT_PREFIX, TransitionDef
from engine.machines.definitions import pinned_machine
from engine.machines.tasks import open_tasks_of
from engine.models import InstanceStatus, MachineEvent, MachineInstance, MachineVersion

HISTORY_LIMIT = 200


def machine_exists(slug: str) -> bool:
    return get_machine(slug) is not None or MachineVersion.objects.filter(machine=slug).exists()


def instances_of(
    slug: str, *, state: str | None = None, min_seconds_in_state: float | None = None
) -> QuerySet[MachineInstance]:
    """The machine's instances, longest in their state first."""
    found = MachineInstance.objects.filter(machine=slug).order_by("entered_at", "id")
    if state:
        found = found.filter(state=state)
    if min_seconds_in_state:
        found = found.filter(
            entered_at__lte=timezone.now() - timedelta(seconds=min_seconds_in_state)
        )
    return found


def state_counts(slug: str) -> dict[str, int]:
    """How many of the machine's instances are in each state now (states with none left out)."""
    return dict(
        MachineInstance.objects.filter(machine=slug)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )


def event_out(event: MachineEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "event_id": event.event_id,
        "name": event.name,
        "data": event.data,
        "source": event.source,
        "status": event.status,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "transition": event.transition,
        "reason": event.reason,
        "guard": event.guard,
        "actions": event.actions,
        "actor": event.actor.get_username() if event.actor else None,
        "run_id": event.run_id,
        "received_at": event.received_at,
        "applied_at": event.applied_at,
    }


def instance_summary(instance: MachineInstance, now: datetime) -> dict[str, Any]:
    return {
        "id": instance.pk,
        "machine": instance.machine,
        "version": instance.version,
        "key": instance.key,
        "state": instance.state,
        "status": instance.status,
        "context": instance.context,
        "entered_at": instance.entered_at,
        "seconds_in_state": (now - instance.entered_at).total_seconds(),
        "created_at": instance.created_at,
        "updated_at": instance.updated_at,
        "applying_run": instance.applying_id,
    }


def instance_detail(instance: MachineInstance) -> dict[str, Any]:
    """The instance with its allowed events (each guard's verdict now, on no event data), its
    pending delayed transitions and its history, oldest first."""
    now = timezone.now()
    definition = pinned_machine(instance.machine, instance.version).definition
    verdicts = (
        []
        if instance.status == InstanceStatus.FINAL
        else allowed_events(definition, instance.state, instance.context, now)
    )
    events = MachineEvent.objects.filter(instance=instance).select_related("actor").order_by("id")
    tasks = open_tasks_of(instance)
    return {
        **instance_summary(instance, now),
        "allowed_events": [
            _allowed_event(found.transition, found.allowed, found.reason, tasks)
            for found in verdicts
        ],
        "tasks": tasks,
        "timers": [
            {"transition": timer.transition, "entered_at": timer.entered_at, "due_at": timer.due_at}
            for timer in instance.timers.order_by("due_at", "id")
        ],
        "history": [event_out(event) for event in events[:HISTORY_LIMIT]],
    }


def _allowed_event(
    transition: TransitionDef, allowed: bool, reason: str, tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    row = {
        "event": transition.event,
        "transition": transition.id,
        "target": transition.target,
        "guard": transition.guard_label(),
        "allowed": allowed,
        "reason": reason,
    }
    if (transition.event or "").startswith(TASK_EVENT_PREFIX):
        # Nobody sends a decision: the task's assignees take it in the inbox.
        where = ", ".join(f"task #{task['id']}" for task in tasks) or "the state's task"
        row |= {"allowed": False, "reason": f"decided in the inbox ({where})"}
    return row
