"""Messages to workers, sent only once the rows they are about are committed.

Tasks are sent by name, so nothing here imports the code that runs them (engine/tasks.py
registers each under the name below): the engine's rooms can ask for work without a cycle
back through the Celery task module.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from engine.models import Run, RunStatus
from engine.models.row_checks import checked_on_the_row

logger = logging.getLogger(__name__)

ADVANCE_RUN = "engine.advance_run"
RUN_BRANCH = "engine.run_branch"
ANSWER_PROBE = "engine.answer_probe"
PROCESS_WEBHOOK_DELIVERY = "engine.process_webhook_delivery"


def queue_on_commit(task_name: str, *args: Any) -> None:
    """Queue a task for a worker once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(task_name, args))


def _send(task_name: str, args: tuple[Any, ...]) -> None:
    send_many(task_name, [args])


def advance_on_commit(run_id: int) -> None:
    queue_on_commit(ADVANCE_RUN, run_id)


def run_branch_on_commit(run_id: int, seq: int, branch: int) -> None:
    queue_on_commit(RUN_BRANCH, run_id, seq, branch)


def queued_messages() -> int | None:
    """How many messages wait in the engine's queue, or None when the broker cannot say."""
    try:
        with current_app.connection_for_write() as connection:
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


WAKEABLE = [
    RunStatus.WAITING,
    RunStatus.PENDING,
    RunStatus.RUNNING,
    RunStatus.PAUSED,
    RunStatus.CANCELLING,
]


def wake(run_id: int) -> bool:
    """Ask for a run to be advanced; call inside the transaction that made it runnable.

    One statement, so it cannot fall between the checks of an advancer that is suspending
    the run: either the advancer sees wake_requested and goes round again, or this sees the
    run already waiting and makes it pending. A paused run keeps the request until resumed; a
    cancelling one stays cancelling.
    """
    woken = _request_wake(Run.objects.filter(pk=run_id), timezone.now())
    if woken:
        advance_on_commit(run_id)
    return bool(woken)


def wake_many(run_ids: list[int]) -> int:
    """wake() for many runs in one statement, their messages sent together after commit."""
    if not run_ids:
        return 0
    runs = Run.objects.filter(checked_on_the_row(status__in=WAKEABLE), pk__in=run_ids)
    # RETURNING (PostgreSQL and SQLite both have it) names the runs woken in the same
    # statement: a burst of timers pays for no second read of the rows it has just written.
    query = cast(UpdateQuery, runs.query.chain(UpdateQuery))
    query.add_update_values(_wake_values(timezone.now()))
    rows = query.get_compiler(runs.db).execute_returning_sql([Run._meta.pk])
    woken = [row[0] for row in rows]
    if woken:
        transaction.on_commit(lambda: send_many(ADVANCE_RUN, [(run_id,) for run_id in woken]))
    return len(woken)


def _request_wake(runs: QuerySet[Run], now: datetime) -> int:
    return runs.filter(checked_on_the_row(status__in=WAKEABLE)).update(**_wake_values(now))


def _wake_values(now: datetime) -> dict[str, Any]:
    return {
        "wake_requested": True,
        "status": Case(
            When(status=RunStatus.WAITING, then=Value(RunStatus.PENDING.value)),
            default=F("status"),
        ),
        "dispatched_at": now,
    }


_held = threading.local()


@contextmanager
def messages_held() -> Iterator[None]:
    """Hold the messages sent inside the block (each still only once its transaction commits)
    and send them together when the block ends, through one producer.

    A sweep that commits batch after batch then writes every batch before the first message
    goes: the broker's round trips do not pace its database writes, and the workers those
    messages wake do not compete with it for the machine. The block sends on its way out even
    when it ends in an error, as what was committed inside it must reach a worker.
    """
    if getattr(_held, "calls", None) is not None:
        yield  # an enclosing block sends them
        return
    calls: list[tuple[str, tuple[Any, ...]]] = []
    _held.calls = calls
    try:
        yield
    finally:
        _held.calls = None
        _publish(calls)


def send_many(task_name: str, calls: list[tuple[Any, ...]]) -> None:
    """Send one task many times through one broker connection (not one from the pool each);
    inside messages_held(), when that block ends."""
    held: list[tuple[str, tuple[Any, ...]]] | None = getattr(_held, "calls", None)
    if held is not None:
        held.extend((task_name, args) for args in calls)
        return
    _publish([(task_name, args) for args in calls])


def _publish(calls: list[tuple[str, tuple[Any, ...]]]) -> None:
    if not calls:
        return
    # The rows these messages are about are committed: a broker that is down or restarting
    # must not turn that into an error for the caller (an API client told 500 starts the run
    # again, a timer tick would stop after its first batch). The database says the work is
    # due, and the timer loop's recovery sweepers send it again.
    try:
        # A publish batch writes to Redis in pipelines of a thousand, not a round trip each.
        with current_app.producer_or_acquire() as producer, producer.batch():
            for task_name, args in calls:
                current_app.send_task(task_name, args=args, producer=producer)
    except (KombuError, RedisError, OSError):
        logger.warning(
            "could not queue %d message(s) (first %s%r); the timer loop will send them again",
            len(calls),
            *calls[0],
            exc_info=True,
        )
