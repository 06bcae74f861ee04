"""Heartbeats of workers and timer loops, written to the database for /health."""

import logging
import os
import socket
from datetime import datetime
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def record_heartbeat(kind: str, name: str, started_at: datetime, details: dict[str, Any]) -> None:
    """Upsert the process's row in one statement, so two beats never race into a duplicate."""
    # Deferred: config.celery loads this module (for its worker step) before Django's app
    # registry is ready, and models cannot be imported then.
    from engine.models import ProcessHeartbeat

    ProcessHeartbeat.objects.bulk_create(
        [
            ProcessHeartbeat(
                kind=kind,
                name=name,
                started_at=started_at,
                last_seen=timezone.now(),
                details=details,
            )
        ],
        update_conflicts=True,
        unique_fields=["kind", "name"],
        update_fields=["started_at", "last_seen", "details"],
    )


def process_details() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """Celery worker step that records a heartbeat on the worker's own timer."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.started_at = timezone.now()
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        self.started_at = timezone.now()
        self.beat(parent)
        self.timer_entry = parent.timer.call_repeatedly(
            settings.STEPWISE_HEARTBEAT_SECONDS, self.beat, (parent,), priority=10
        )

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def beat(self, worker: Any) -> None:
        # A database outage must not kill the worker; /health shows the missing beats instead.
        try:
            close_old_connections()
            details = process_details() | {"queues": sorted(_queue_names(worker))}
            record_heartbeat("worker", worker.hostname, self.started_at, details)
        except Exception:
            logger.exception("could not record the worker heartbeat")


def _queue_names(worker: Any) -> set[str]:
    consumer_queues = getattr(worker.app.amqp, "queues", {})
    return {str(name) for name in consumer_queues}
