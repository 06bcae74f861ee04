"""Durable debounce: of the calls with one key inside the window, only the last one runs."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from engine.core.values import JSON, to_json_value
from engine.models import DebounceSlot
from engine.runtime.resolving import resolve


def debounce_start(
    workflow: str, key: str, input: JSON, window: float | timedelta, *, priority: int = 0
) -> DebounceSlot:
    """Start `workflow` once no call with this key came for `window`, with the latest input
    (and the latest call's priority)."""
    resolve(workflow)  # an unknown workflow fails now, not when the window closes
    seconds = window.total_seconds() if isinstance(window, timedelta) else float(window)
    if seconds <= 0:
        raise ValueError("window: must be a positive number of seconds")
    if not key or len(key) > 200:
        raise ValueError("key: must be 1 to 200 characters")
    now = timezone.now()
    due = now + timedelta(seconds=seconds)
    value = to_json_value(input)
    with transaction.atomic():
        updated = DebounceSlot.objects.filter(workflow=workflow, key=key).update(
            input=value, due_at=due, priority=priority, calls=F("calls") + 1
        )
        if not updated:
            DebounceSlot.objects.bulk_create(
                [
                    DebounceSlot(
                        workflow=workflow,
                        key=key,
                        input=value,
                        priority=priority,
                        first_call_at=now,
                        due_at=due,
                    )
                ],
                update_conflicts=True,
                unique_fields=["workflow", "key"],
                update_fields=["input", "due_at", "priority"],
            )
    return DebounceSlot.objects.get(workflow=workflow, key=key)
