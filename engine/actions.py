"""Engine actions: each owns its transaction and sends messages and signals after commit."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.core.journal import EntryKind, EntryStatus
from engine.core.values import to_json_value
from engine.definitions import resolve
from engine.dispatch import advance_on_commit, wake
from engine.models import (
    TERMINAL_STATUSES,
    Run,
    RunStatus,
    StepRecord,
    Timer,
    TimerKind,
    Wait,
    WaitStatus,
    WorkerProbe,
)
from engine.signals import run_changed, send_on_commit


class RunStateError(ValueError):
    """The run is not in a state that allows the action; the message says why."""


def request_worker_probe(user: User | None) -> WorkerProbe:
    """Record a probe and ask a worker to answer it once the row is committed."""
    from engine.tasks import answer_probe

    with transaction.atomic():
        probe = WorkerProbe.objects.create(requested_by=user, requested_at=timezone.now())
        transaction.on_commit(lambda: answer_probe.delay(probe.pk))
    return probe


def create_run(
    workflow: str,
    input: Any = None,
    *,
    trigger: str = "api",
    trigger_ref: str = "",
    parent: Run | None = None,
    idempotency_key: str | None = None,
    created_by: User | None = None,
    start_at: datetime | None = None,
) -> Run:
    """Create a run inside the caller's transaction and dispatch it after commit.

    Returns the existing run when the idempotency key was used before for this workflow.
    """
    resolved = resolve(workflow)
    if idempotency_key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    definition = resolved.definition
    input = to_json_value(input)
    scheduled = start_at is not None and start_at > now
    run = Run(
        workflow=workflow,
        kind=resolved.kind,
        version=resolved.version,
        input=input,
        status=RunStatus.SCHEDULED if scheduled else RunStatus.PENDING,
        trigger=trigger,
        trigger_ref=trigger_ref,
        parent=parent,
        idempotency_key=idempotency_key or None,
        created_by=created_by,
        created_at=now,
        scheduled_for=start_at if scheduled else None,
        dispatched_at=None if scheduled else now,
    )
    if definition.cache_ttl and not scheduled:
        from engine.workflow_cache import cached_output

        hit, output = cached_output(workflow, input)
        if hit:
            run.status, run.output = RunStatus.COMPLETED, output
            run.started_at = run.finished_at = now
            run.trigger_ref = (trigger_ref + " (cached result)").strip()
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:
        return Run.objects.get(workflow=workflow, idempotency_key=idempotency_key)
    if scheduled:
        assert start_at is not None
        Timer.objects.create(run=run, kind=TimerKind.START, due_at=start_at)
    elif run.status == RunStatus.PENDING:
        advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=workflow, status=run.status)
    return run


def start_run(workflow: str, input: Any = None, **options: Any) -> Run:
    """Start a workflow run (or return the one its idempotency key already started)."""
    with transaction.atomic():
        return create_run(workflow, input, **options)


def begin_deadline(run: Run, timeout_seconds: float | None) -> None:
    """Called when a run first starts: its run timeout counts from then."""
    if timeout_seconds:
        deadline = timezone.now() + timedelta(seconds=timeout_seconds)
        Run.objects.filter(pk=run.pk).update(deadline_at=deadline)
        Timer.objects.create(run=run, kind=TimerKind.RUN_TIMEOUT, due_at=deadline)


def finish_run(
    run: Run,
    status: str,
    *,
    output: Any = None,
    error: dict[str, Any] | None = None,
    only_if_owner: str | None = None,
) -> bool:
    """Inside a transaction: end a run, close what it waits on, end its children, tell its parent.

    Returns False when the run had already ended (or, with only_if_owner, lost its lease).
    """
    now = timezone.now()
    runs = Run.objects.filter(pk=run.pk).exclude(status__in=TERMINAL_STATUSES)
    if only_if_owner is not None:
        runs = runs.filter(lease_owner=only_if_owner, status=RunStatus.RUNNING)
    ended = runs.update(
        status=status,
        output=output,
        error=error,
        finished_at=now,
        lease_owner="",
        lease_until=None,
        wake_requested=False,
    )
    if not ended:
        return False
    run.status, run.output, run.error, run.finished_at = status, output, error, now
    Timer.objects.filter(run=run).delete()
    # A graph that reached its end node may leave other branches waiting: close them too.
    Wait.objects.filter(run=run, status=WaitStatus.WAITING).update(status=WaitStatus.CANCELLED)
    if status != RunStatus.COMPLETED:
        # A run that completed has no step in flight.
        StepRecord.objects.filter(run=run, status__in=["queued", "dispatched"]).update(
            status="cancelled", finished_at=now
        )
    # Nobody should be asked to decide for a run that is over.
    from engine.human import cancel_open_tasks

    cancel_open_tasks([run.pk])
    for child in Run.objects.filter(parent=run).exclude(status__in=TERMINAL_STATUSES):
        finish_run(
            child,
            RunStatus.CANCELLED,
            error={"type": "Cancelled", "message": f"parent run {run.pk} ended {status}"},
        )
    if run.parent_id is not None:
        _tell_parent(run)
    if status == RunStatus.COMPLETED:
        from engine.workflow_cache import remember_output

        transaction.on_commit(lambda: remember_output(run))
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=status)
    return True


def _tell_parent(child: Run) -> None:
    from engine.store import apply_child_outcome

    parent_id = child.parent_id
    assert parent_id is not None
    waiting = StepRecord.objects.filter(
        run_id=parent_id,
        kind=EntryKind.CHILD_RESULT,
        child_run=child,
        status=EntryStatus.WAITING,
        superseded=False,
    ).first()
    if waiting is None:
        return  # the parent has not asked for the result yet; it will find the child ended
    apply_child_outcome(waiting, child)
    waiting.save(update_fields=["status", "output", "error", "finished_at"])
    wake(parent_id)


def cancel_run(run_id: int, *, reason: str = "cancelled") -> Run:
    """Cancel a run that has not ended, whether it waits or is being executed, and its children."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_terminal:
            raise RunStateError(f"run {run_id} already ended {run.status}")
        finish_run(run, RunStatus.CANCELLED, error={"type": "Cancelled", "message": reason})
    return run


def retry_run(run_id: int) -> Run:
    """Run a failed run again from the step that failed; the steps before it stay done."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.FAILED:
            raise RunStateError(f"only failed runs can be retried; run {run_id} is {run.status}")
        # Replay from the earliest step the failure left unfinished: the failed one, and any
        # wait of a parallel branch that the failure closed (its timer and wait rows are gone).
        unfinished = StepRecord.objects.filter(run=run, branch=0, superseded=False).exclude(
            status=EntryStatus.COMPLETED
        )
        failed_at = unfinished.order_by("seq").values_list("seq", flat=True).first()
        if failed_at is not None:
            # Those steps and all that followed are replayed afresh; attempts so far stay in
            # the journal, marked superseded.
            StepRecord.objects.filter(run=run, seq__gte=failed_at).update(superseded=True)
            Wait.objects.filter(run=run, seq__gte=failed_at).delete()
        from engine.human import reopen_cancelled_tasks

        # The failure cancelled the run's open tasks; the replayed waits need them open again.
        reopen_cancelled_tasks(run.pk)
        now = timezone.now()
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.PENDING,
            error=None,
            output=None,
            finished_at=None,
            dispatched_at=now,
            wake_requested=False,
        )
        run.refresh_from_db()
        advance_on_commit(run.pk)
        send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run


def pause_run(run_id: int) -> Run:
    """Stop advancing a run at its next step; timers and events are kept for when it resumes."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_terminal or run.status == RunStatus.PAUSED:
            raise RunStateError(f"run {run_id} is {run.status} and cannot be paused")
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.PAUSED, lease_owner="", lease_until=None
        )
        run.refresh_from_db()
        send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run


def resume_run(run_id: int) -> Run:
    """Resume a paused run: it replays its journal and carries on."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.PAUSED:
            raise RunStateError(f"run {run_id} is {run.status}, not paused")
        Run.objects.filter(pk=run.pk).update(status=RunStatus.PENDING, dispatched_at=timezone.now())
        run.refresh_from_db()
        advance_on_commit(run.pk)
        send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run
