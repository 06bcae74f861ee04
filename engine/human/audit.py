"""A task's audit trail: every step of a task, who took it (for whom), when and why."""

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from engine.models import HumanTask, TaskEvent, TaskEventKind


def record_event(
    task: HumanTask,
    kind: TaskEventKind,
    *,
    actor: User | None = None,
    on_behalf_of: User | None = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> TaskEvent:
    """Inside the transaction that made the change: write it into the task's history."""
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        actor=actor,
        on_behalf_of=on_behalf_of,
        note=note[:2000],
        detail=detail or {},
        at=timezone.now(),
    )
