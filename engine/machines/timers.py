"""The sweeper of delayed transitions: a MachineTimer that came due becomes the internal event
`after:<transition id>` of its instance, queued like any other event.

Each timer fires once: it is deleted in the transaction that queues its event, claimed with
SKIP LOCKED so several timer loops never fire it twice. The lock order is the one every writer
of an instance keeps (the instance's row, then its timers): a commit that is dropping this
timer holds the instance, and the sweeper skips it until the next tick. A timer whose state
was left after it fired is refused as stale when its event is applied.
"""

from django.db import transaction
from django.utils import timezone

from engine.core.machine_applying import TIMER_PREFIX
from engine.machines.instances import send_internal_event
from engine.models import MachineInstance, MachineTimer

BATCH = 200


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
