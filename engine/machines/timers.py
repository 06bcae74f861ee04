"""The machines' sweepers. Delayed transitions: a MachineTimer that came due becomes the
internal event `after:<transition id>` of its instance, queued like any other event. Stalled
queues: an instance whose applying run ended without committing moves on to its next event.

Each timer fires once: it is deleted in the transaction that queues its event, claimed with
SKIP LOCKED so several timer loops never fire it twice. The lock order is the one every writer
of an instance keeps (the instance's row, then its timers): a commit that is dropping this
timer holds the instance, and the sweeper skips it until the next tick. A timer whose state
was left after it fired is refused as stale when its event is applied.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from engine.core.machine_applying import TIMER_PREFIX
from engine.machines.instances import send_internal_event
from engine.machines.queue import announce_on_commit, apply_next_locked
from engine.models import TERMINAL_STATUSES, MachineInstance, MachineTimer
from engine.runtime.timers import first_due_after

BATCH = 200


def next_machine_timer_due(after: datetime) -> datetime | None:
    """The first machine timer due after `after` (engine.runtime.timers.first_due_after)."""
    return first_due_after(MachineTimer.objects.all(), after)


def fire_due_machine_timers() -> int:
    """Queue the event of every due timer (at most BATCH per tick); returns how many."""
    due = list(
        MachineTimer.objects.filter(due_at__lte=timezone.now())
        .order_by("due_at", "id")
        .values_list("pk", "instance_id")[:BATCH]
    )
    fired = 0
    for timer_pk, instance_pk in due:
        with transaction.atomic():
            instance = (
                MachineInstance.objects.select_for_update(skip_locked=True)
                .filter(pk=instance_pk)
                .first()
            )
            if instance is None:
                continue  # busy (an event is being committed): the next tick fires it
            timer = (
                MachineTimer.objects.select_for_update(skip_locked=True).filter(pk=timer_pk).first()
            )
            if timer is None:
                continue  # dropped by a commit, or fired by another loop
            timer.delete()
            send_internal_event(
                instance.pk,
                TIMER_PREFIX + timer.transition,
                {"entered_at": timer.entered_at.isoformat()},
                event_id=f"timer:{timer_pk}",
                source="timer",
            )
            fired += 1
    return fired


def free_stalled_queues() -> int:
    """Move on the instances whose applying run ended without committing its event (an
    operator cancelled it, or it failed for good): that event is marked failed and the next
    pending one starts, without waiting for another event to be sent. Returns how many."""
    stalled = list(
        MachineInstance.objects.filter(applying__status__in=TERMINAL_STATUSES)
        .order_by("id")
        .values_list("pk", flat=True)[:BATCH]
    )
    freed = 0
    for instance_pk in stalled:
        with transaction.atomic():
            instance = (
                MachineInstance.objects.select_for_update(skip_locked=True)
                .filter(pk=instance_pk, applying__status__in=TERMINAL_STATUSES)
                .first()
            )
            if instance is None:
                continue  # committed meanwhile, or locked by a sender who frees it itself
            apply_next_locked(instance)
            announce_on_commit(instance)
            freed += 1
    return freed
