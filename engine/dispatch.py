"""Sending "advance this run" and "run this step" messages, only once the rows are committed."""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from engine.models import Run, RunStatus

logger = logging.getLogger(__name__)


def advance_on_commit(run_id: int) -> None:
    from engine.tasks import advance_run

    transaction.on_commit(lambda: advance_run.delay(run_id))


def run_branch_on_commit(run_id: int, seq: int, branch: int) -> None:
    from engine.tasks import run_branch

    transaction.on_commit(lambda: run_branch.delay(run_id, seq, branch))


def queued_messages() -> int | None:
    """How many messages wait in the engine's queue, or None when the broker cannot say."""
    from config.celery import app

    try:
        with app.connection_for_write() as connection:
            channel: Any = connection.default_channel
            declared = channel.queue_declare(
                queue=settings.STEPWISE_QUEUE, durable=True, auto_delete=False
            )
            return int(declared.message_count)
    except Exception:
        logger.warning(
            "could not read the length of queue %s", settings.STEPWISE_QUEUE, exc_info=True
        )
        return None


def wake(run_id: int) -> bool:
    """Ask for a run to be advanced; call inside the transaction that made it runnable.

    One statement, so it cannot fall between the checks of an advancer that is suspending
    the run: either the advancer sees wake_requested and goes round again, or this sees the
    run already waiting and makes it pending. A paused run keeps the request until resumed; a
    cancelling one stays cancelling.
    """
    woken = Run.objects.filter(
        pk=run_id,
        status__in=[
            RunStatus.WAITING,
            RunStatus.PENDING,
            RunStatus.RUNNING,
            RunStatus.PAUSED,
            RunStatus.CANCELLING,
        ],
    ).update(
        wake_requested=True,
        status=Case(
            When(status=RunStatus.WAITING, then=Value(RunStatus.PENDING.value)),
            default=F("status"),
        ),
        dispatched_at=timezone.now(),
    )
    if woken:
        advance_on_commit(run_id)
    return bool(woken)
