"""An instance's events, one at a time: the next pending event starts a run only when no run
is applying one. Every function here runs with the instance's row locked (select_for_update),
which is what serialises concurrent senders and the run that commits the previous event."""

from django.utils import timezone

from engine.machines.tasks import withdraw_tasks_of_run
from engine.messaging.signals import instance_changed, send_on_commit
from engine.models import (
    TERMINAL_STATUSES,
    MachineEvent,
    MachineEventStatus,
    MachineInstance,
    Run,
)
from engine.runtime.runs import create_run

APPLY_WORKFLOW = "stepwise-machine-event"
"""The engine's own workflow that applies one event to one instance (engine.machines.applying)."""


def apply_next_locked(instance: MachineInstance) -> None:
    """Start applying the oldest pending event unless a run is applying one already."""
    applying = instance.applying_id
    if applying is not None and not _ended_without_commit(instance, applying):
        return
    following = (
        MachineEvent.objects.filter(instance=instance, status=MachineEventStatus.PENDING)
        .order_by("id")
        .first()
    )
    if following is None:
        if instance.applying_id is not None:
            instance.applying = None
            instance.save(update_fields=["applying"])
        return
    run = create_run(
        APPLY_WORKFLOW,
        {"instance": instance.pk, "event": following.pk},
        trigger="machine",
        trigger_ref=f"{instance.machine}:{instance.key}"[:200],
        idempotency_key=f"machine-event:{following.pk}",
        created_by=following.actor,
    )
    following.status, following.run = MachineEventStatus.APPLYING, run
    following.save(update_fields=["status", "run"])
    instance.applying = run
    instance.save(update_fields=["applying"])


def _ended_without_commit(instance: MachineInstance, run_id: int) -> bool:
    """The run applying an event ended without committing it (cancelled by an operator, or a
    bug): that event failed, and the queue must not wait for it for ever."""
    status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status is not None and status not in TERMINAL_STATUSES:
        return False
    MachineEvent.objects.filter(
        instance=instance, status=MachineEventStatus.APPLYING, run_id=run_id
    ).update(
        status=MachineEventStatus.FAILED,
        reason=f"the run applying it ended {status or 'deleted'} before it was applied",
        applied_at=timezone.now(),
    )
    # The state it was entering never became the instance's: nor do its tasks.
    withdraw_tasks_of_run(instance, run_id)
    return True


def announce_on_commit(instance: MachineInstance) -> None:
    """Tell listeners (a live cockpit), once committed, that the instance changed."""
    send_on_commit(
        instance_changed,
        instance_id=instance.pk,
        machine=instance.machine,
        state=instance.state,
        status=instance.status,
    )
