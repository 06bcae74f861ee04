"""Waiting for a machine's events to be applied by a real worker, and calling its API."""

import time
from typing import Any

from engine.models import MachineEvent, MachineEventStatus

DONE = (MachineEventStatus.APPLIED, MachineEventStatus.REFUSED, MachineEventStatus.FAILED)


def wait_applied(instance_id: int, count: int | None = None, timeout: float = 30) -> None:
    """Until no event of the instance waits (and, with `count`, that many are done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = MachineEvent.objects.filter(instance_id=instance_id)
        waiting = events.exclude(status__in=DONE).exists()
        done = events.filter(status__in=DONE).count()
        if not waiting and (count is None or done >= count):
            return
        time.sleep(0.05)
    statuses = list(
        MachineEvent.objects.filter(instance_id=instance_id).values_list("name", "status")
    )
    raise AssertionError(f"instance {instance_id}: events still waiting: {statuses}")


def json_of(response: Any) -> Any:
    return response.json()
