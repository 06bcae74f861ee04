"""Celery tasks: thin wrappers that call the engine, registered under the names that
engine.messaging.dispatch sends. Redelivery is always safe."""

from typing import Any

from celery import Task, shared_task
from celery.signals import task_prerun
from django.db import close_old_connections
from django.utils import timezone

from engine.inbound.webhooks import process_delivery
from engine.messaging.dispatch import (
    ADVANCE_RUN,
    ANSWER_PROBE,
    PROCESS_WEBHOOK_DELIVERY,
    RUN_BRANCH,
)
from engine.models import WorkerProbe
from engine.runtime.runner import advance
from engine.runtime.runner import run_branch as run_one_branch


@task_prerun.connect
def drop_broken_connections(**_: Any) -> None:
    """Before each task, close a database connection that broke or outlived CONN_MAX_AGE.

    Celery keeps a worker's connection across tasks (CELERY_DB_REUSE_MAX) and never asks Django
    whether it still works, so after a PostgreSQL restart every task of that worker failed with
    "the connection is closed" until 2,000 tasks had passed. Django's own check also re-arms the
    health check (CONN_HEALTH_CHECKS), which reconnects a connection the server dropped.
    """
    close_old_connections()


@shared_task(bind=True, name=ANSWER_PROBE)
def answer_probe(self: Task[Any, Any], probe_id: int) -> None:
    # Redelivery after a crash answers again; only the first answer is kept.
    WorkerProbe.objects.filter(pk=probe_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=self.request.hostname or "unknown"
    )


@shared_task(name=ADVANCE_RUN)
def advance_run(run_id: int) -> None:
    advance(run_id)


@shared_task(name=RUN_BRANCH)
def run_branch(run_id: int, seq: int, branch: int) -> None:
    run_one_branch(run_id, seq, branch)


@shared_task(name=PROCESS_WEBHOOK_DELIVERY)
def process_webhook_delivery(delivery_id: int) -> None:
    # Redelivery finds the delivery processed under its row lock and does nothing.
    process_delivery(delivery_id)
