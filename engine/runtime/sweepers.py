"""What the timer loop does each tick: fire due timers, start debounced runs, recover lost work.

Every sweeper claims rows with SELECT ... FOR UPDATE SKIP LOCKED, so several timer loops can
run side by side and each row is handled by exactly one of them.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from engine.core.journal import EntryKind, EntryStatus
from engine.messaging.dispatch import (
    advance_on_commit,
    messages_held,
    queued_messages,
    run_branch_on_commit,
    wake_many,
)
from engine.messaging.signals import run_changed, send_on_commit
from engine.models import DebounceSlot, Run, RunStatus, StepRecord, Timer, TimerKind
from engine.models.row_checks import checked_on_the_row
from engine.resilience.priorities import ADMITTED, HELD, admit_next
from engine.runtime.rollups import rollups_in_key_order
from engine.runtime.runner import retry_branch
from engine.runtime.runs import create_run, request_cancel
from engine.runtime.timers import first_due_after

BATCH = 200
TIMER_BATCH = 1000
"""Timers claimed per transaction."""
TIMER_BATCHES_PER_TICK = 50
"""A bound on one sweep, so the loop's other sweepers and heartbeat still run in a flood."""


def fire_due_timers() -> int:
    """Fire what is due, batch after batch while batches come back full, with no pause between
    them; the messages to workers go once the last batch has committed, so the first runs woken
    do not slow down the writes that end the others' sleeps."""
    fired = 0
    with messages_held():
        for _ in range(TIMER_BATCHES_PER_TICK):
            count = _fire_due_batch()
            fired += count
            if count < TIMER_BATCH:
                break
    return fired


def next_timer_due(after: datetime) -> datetime | None:
    """The first timer due after `after` (engine.runtime.timers.first_due_after)."""
    return first_due_after(Timer.objects.all(), after)


def _fire_due_batch() -> int:
    now = timezone.now()
    # Timeouts end runs of many workflows here: their rollup rows are taken in key order.
    with transaction.atomic(), rollups_in_key_order():
        due = list(
            Timer.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")[:TIMER_BATCH]
        )
        if not due:
            return 0
        Timer.objects.filter(pk__in=[timer.pk for timer in due]).delete()
        wakes = [timer for timer in due if timer.kind == TimerKind.WAKE]
        _fire_wakes(wakes)
        for timer in due:
            if timer.kind != TimerKind.WAKE:
                _fire(timer)
    return len(due)


def _fire_wakes(timers: list[Timer]) -> None:
    """Wake timers in a handful of statements, however many there are (a burst is common)."""
    if not timers:
        return
    # Only the sleep at the timer's own position ends; a retry back-off or a wait's timeout
    # shares the timer kind, and the run decides what those mean when it wakes. One condition
    # per position, not per timer: a burst's sleeps mostly sit at the same few positions.
    runs_at: dict[int, list[int]] = defaultdict(list)
    for timer in timers:
        if timer.seq is not None:
            runs_at[timer.seq].append(timer.run_id)
    if runs_at:
        positions = Q()
        for seq, run_ids in runs_at.items():
            positions |= Q(seq=seq, run_id__in=run_ids)
        StepRecord.objects.filter(
            positions,
            branch=0,
            kind=EntryKind.SLEEP,
            status=EntryStatus.WAITING,
            superseded=False,
        ).update(status=EntryStatus.COMPLETED, finished_at=timezone.now())
    wake_many([timer.run_id for timer in timers])


def _fire(timer: Timer) -> None:
    if timer.kind == TimerKind.START:
        scheduled = Run.objects.filter(
            checked_on_the_row(status=RunStatus.SCHEDULED), pk=timer.run_id
        )
        found = scheduled.values_list("workflow", "admission", "concurrency_key").first()
        if found is None:
            return
        workflow, admission, key = found
        # A run its workflow's cap held back waits for a place: admit_next sends it then.
        held = admission == HELD
        started = scheduled.update(
            status=RunStatus.PENDING, dispatched_at=None if held else timezone.now()
        )
        if started:
            if held:
                # Its place may have come while it waited for its time (the runs that ended
                # meanwhile let in only runs already due): nothing else would let it in.
                admit_next(workflow, key)
            else:
                advance_on_commit(timer.run_id)
            send_on_commit(
                run_changed, run_id=timer.run_id, workflow=workflow, status=RunStatus.PENDING
            )
    elif timer.kind == TimerKind.RUN_TIMEOUT:
        run = Run.objects.select_for_update().get(pk=timer.run_id)
        if not run.is_terminal and run.status != RunStatus.CANCELLING:
            # Like a cancel: the run undoes what it did, then ends timed out.
            request_cancel(run, "the run passed its timeout", status=RunStatus.TIMED_OUT)
    elif timer.kind == TimerKind.BRANCH_RETRY and timer.seq is not None:
        retry_branch(timer.run_id, timer.seq, timer.branch or 0)


def next_debounce_due(after: datetime) -> datetime | None:
    """The first debounced start due after `after` (engine.runtime.timers.first_due_after)."""
    return first_due_after(DebounceSlot.objects.all(), after)


def start_due_debounces() -> int:
    now = timezone.now()
    with transaction.atomic(), rollups_in_key_order():
        due = list(
            DebounceSlot.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")[:BATCH]
        )
        for slot in due:
            create_run(
                slot.workflow,
                slot.input,
                trigger="debounce",
                trigger_ref=f"{slot.key} (last of {slot.calls} calls)",
                priority=slot.priority,
            )
        DebounceSlot.objects.filter(pk__in=[slot.pk for slot in due]).delete()
    return len(due)


def redispatch_all_runnable() -> int:
    """At the start of an embedded server: its in-memory queue began empty, so every run
    that should be moving has lost its message."""
    with transaction.atomic():
        moving = [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.CANCELLING]
        runs = list(
            Run.objects.filter(status__in=moving)
            .exclude(admission=HELD, status=RunStatus.PENDING)
            .values_list("pk", flat=True)
        )
        # Leases left by the previous process lapse on their own; the recovery sweeper then
        # sends those runs again.
        Run.objects.filter(pk__in=runs).update(dispatched_at=timezone.now())
        for run_id in runs:
            advance_on_commit(run_id)
        for record in StepRecord.objects.filter(status="dispatched"):
            run_branch_on_commit(record.run_id, record.seq, record.branch)
    return len(runs)


def redispatch_lost_work() -> int:
    """Send again the messages a crash or a broker restart lost; the database knows.

    A run whose advancer died (its lease lapsed) is sent again at once. Pending runs and
    parallel steps are sent again only when their message is overdue and the queue is empty:
    behind a long queue they are merely waiting their turn, and copies would make it longer.
    """
    now = timezone.now()
    lapsed = Q(
        status__in=[RunStatus.RUNNING, RunStatus.CANCELLING],
        lease_until__lt=now,
        dispatched_at__lt=now - timedelta(seconds=settings.STEPWISE_LEASE_SECONDS),
    )
    # A cancelling run with nobody holding it and a wake asked for is as good as pending.
    due = Q(status=RunStatus.PENDING, admission__in=["", ADMITTED]) | Q(
        status=RunStatus.CANCELLING, lease_owner="", wake_requested=True
    )
    forgotten = due & (
        Q(dispatched_at__lt=now - timedelta(seconds=settings.STEPWISE_REDISPATCH_SECONDS))
        | Q(dispatched_at__isnull=True)
    )
    in_flight = StepRecord.objects.filter(
        status="dispatched",
        started_at__lt=now - timedelta(seconds=settings.STEPWISE_BRANCH_REDISPATCH_SECONDS),
    )
    overdue = Run.objects.filter(forgotten).exists() or in_flight.exists()
    if overdue and queued_messages() not in (0, None):
        overdue = False
    wanted = (lapsed | forgotten) if overdue else lapsed
    with transaction.atomic():
        runs = list(
            Run.objects.select_for_update(skip_locked=True)
            .filter(wanted)
            .values_list("pk", flat=True)[:BATCH]
        )
        if runs:
            Run.objects.filter(pk__in=runs).update(dispatched_at=now)
            for run_id in runs:
                advance_on_commit(run_id)
        branches = list(in_flight.select_for_update(skip_locked=True)[:BATCH]) if overdue else []
        for record in branches:
            StepRecord.objects.filter(pk=record.pk).update(started_at=now)
            run_branch_on_commit(record.run_id, record.seq, record.branch)
    return len(runs) + len(branches)
