"""Sending "advance this run" and "run this step" messages, only once the rows are committed."""

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from engine.models import Run, RunStatus


def advance_on_commit(run_id: int) -> None:
    from engine.tasks import advance_run

    transaction.on_commit(lambda: advance_run.delay(run_id))


def run_branch_on_commit(run_id: int, seq: int, branch: int) -> None:
    from engine.tasks import run_branch

    transaction.on_commit(lambda: run_branch.delay(run_id, seq, branch))


def wake(run_id: int) -> bool:
    """Ask for a run to be advanced; call inside the transaction that made it runnable.

    One statement, so it cannot fall between the checks of an advancer that is suspending
    the run: either the advancer sees wake_requested and goes round again, or this sees the
    run already waiting and makes it pending. A paused run keeps the request until resumed.
    """
    woken = Run.objects.filter(
        pk=run_id,
        status__in=[RunStatus.WAITING, RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED],
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
