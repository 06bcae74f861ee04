"""Celery tasks: thin wrappers that call the engine. Redelivery is always safe."""

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


@shared_task(name="engine.advance_run")
def advance_run(run_id: int) -> None:
    from engine.runner import advance

    advance(run_id)


@shared_task(name="engine.run_branch")
def run_branch(run_id: int, seq: int, branch: int) -> None:
    from engine.runner import run_branch as run

    run(run_id, seq, branch)


@shared_task(name="engine.process_webhook_delivery")
def process_webhook_delivery(delivery_id: int) -> None:
    from engine.webhooks import process_delivery

    # Redelivery finds the delivery processed under its row lock and does nothing.
    process_delivery(delivery_id)
