"""Celery tasks: thin wrappers that load ids and call the engine."""

from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from engine.models import WorkerProbe


@shared_task(bind=True, name="engine.answer_probe")
def answer_probe(self: Task[Any, Any], probe_id: int) -> None:
    # Redelivery after a crash answers again; only the first answer is kept.
    WorkerProbe.objects.filter(pk=probe_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=self.request.hostname or "unknown"
    )
