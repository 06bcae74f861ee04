"""Engine actions: each owns its transaction and sends messages and signals after commit."""

import functools
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from engine.core.journal import CancelRequest, EntryKind, EntryStatus, Position
from engine.core.redo import JournalRow, plan_retry
from engine.core.values import JSON, to_json_value
from engine.human import cancel_open_tasks, reopen_cancelled_tasks
from engine.messaging.dispatch import advance_on_commit, wake
from engine.messaging.signals import run_changed, send_on_commit
from engine.models import (
    ADVANCING_STATUSES,
    TERMINAL_STATUSES,
    Run,
    RunStatus,
    StepRecord,
    Timer,
    TimerKind,
    Wait,
    WaitStatus,
)
from engine.models.prepared import prepared_cursor
from engine.models.row_checks import on_the_row
from engine.resilience.priorities import ADMITTED, HELD, admit, admit_next, check_priority
from engine.runtime.at_once import insert_started_at_once
from engine.runtime.fence import commits_alone
from engine.runtime.left_open import what_is_left_open
from engine.runtime.limits import UNRATED_TRIGGERS, rate_refusal
from engine.runtime.output_cache import cached_output, remember_output
from engine.runtime.records import apply_child_outcome, position_key
from engine.runtime.resolving import Resolved, UnknownWorkflow, resolve
from engine.runtime.rollups import add_run_ended, add_run_started, rollups_in_key_order
from engine.runtime.run_timers import drop_timers

RETRYABLE_STATUSES = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT)


class RunStateError(ValueError):
    """The run is not in a state that allows the action; the message says why."""


def create_run(
    workflow: str,
    input: JSON = None,
    *,
    trigger: str = "api",
    trigger_ref: str = "",
    parent: Run | None = None,
    depth: int = 0,
    idempotency_key: str | None = None,
    created_by: User | None = None,
    start_at: datetime | None = None,
    version: str | None = None,
    is_test: bool = False,
    priority: int = 0,
) -> Run:
    """Create a run inside the caller's transaction and dispatch it after commit.

    `version` pins a version other than the current one (a designer's test of a draft).
    `priority` (-100 to 100, higher first) orders it behind its workflow's cap and at
    bulkheads; a run over the cap is held, not dispatched (engine.resilience.priorities).

    Returns the existing run when the idempotency key was used before for this workflow.
    A run over the workflow's rate limit is created failed, saying so, and never dispatched;
    it keeps no idempotency key, so that the same request can start the run later.
    """
    resolved = resolve(workflow, version)
    if idempotency_key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    definition = resolved.definition
    input = to_json_value(input)
    scheduled = start_at is not None and start_at > now
    run = _new_run(
        workflow,
        resolved,
        input,
        now,
        trigger=trigger,
        trigger_ref=trigger_ref,
        parent=parent,
        depth=depth,
        idempotency_key=idempotency_key or None,
        created_by=created_by,
        scheduled_for=start_at if scheduled else None,
        is_test=is_test,
        priority=priority,
    )
    refusal = None if trigger in UNRATED_TRIGGERS else rate_refusal(workflow, now)
    if refusal is not None:
        run.status, run.error, run.finished_at = RunStatus.FAILED, refusal, now
        run.idempotency_key = run.scheduled_for = run.dispatched_at = None
        scheduled = False
    elif definition.cache_ttl and not scheduled:
        hit, output = cached_output(workflow, input)
        if hit:
            run.status, run.output = RunStatus.COMPLETED, output
            run.started_at = run.finished_at = now
            run.trigger_ref = (trigger_ref + " (cached result)").strip()
    if run.status in (RunStatus.PENDING, RunStatus.SCHEDULED):
        # A run to start later takes its place now (docs/resilience.md), and waits for one
        # when it falls due if the cap held it back.
        admit(run, definition)
    if idempotency_key:
        try:
            # A savepoint, so that losing the race for the key leaves the caller's transaction
            # usable; without a key there is no race to lose, and no savepoint to pay for.
            with transaction.atomic():
                run.save(force_insert=True)
        except IntegrityError:
            return Run.objects.get(workflow=workflow, idempotency_key=idempotency_key)
    else:
        run.save(force_insert=True)
    # Refused and cached runs end as they are created: they count as started and ended.
    if run.is_terminal:
        add_run_ended(run, also_started=True)
    else:
        add_run_started(run, now)
    if scheduled:
        assert start_at is not None
        Timer.objects.create(run=run, kind=TimerKind.START, due_at=start_at)
    elif run.status == RunStatus.PENDING and run.admission != HELD:
        advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=workflow, status=run.status)
    return run


def _new_run(
    workflow: str,
    resolved: Resolved,
    input: JSON,
    now: datetime,
    *,
    scheduled_for: datetime | None = None,
    priority: int = 0,
    **fields: Any,
) -> Run:
    """The unsaved run: to start now, or at `scheduled_for`."""
    return Run(
        workflow=workflow,
        kind=resolved.kind,
        version=resolved.version,
        input=input,
        status=RunStatus.PENDING if scheduled_for is None else RunStatus.SCHEDULED,
        created_at=now,
        scheduled_for=scheduled_for,
        dispatched_at=now if scheduled_for is None else None,
        priority=check_priority(priority),
        **fields,
    )


def start_run(workflow: str, input: JSON = None, **options: Any) -> Run:
    """Start a workflow run (or return the one its idempotency key already started)."""
    if commits_alone():
        started = _start_at_once(workflow, input, **options)
        if started is not None:
            return started
    with transaction.atomic():
        return create_run(workflow, input, **options)


def _start_at_once(
    workflow: str,
    input: JSON,
    *,
    trigger: str = "api",
    idempotency_key: str | None = None,
    start_at: datetime | None = None,
    version: str | None = None,
    **fields: Any,
) -> Run | None:
    """A plain start, in one statement committed on its own (engine.runtime.at_once): no
    idempotency key to look up, nothing scheduled, no cached output or workflow cap to consult.
    None when the start is not plain, or the statement found the rate limit reached or a cap
    row: create_run then starts it, or refuses it, as it always did."""
    if idempotency_key or start_at is not None:
        return None
    resolved = resolve(workflow, version)
    if resolved.definition.cache_ttl or resolved.definition.max_active is not None:
        return None
    run = _new_run(
        workflow, resolved, to_json_value(input), timezone.now(), trigger=trigger, **fields
    )
    if not insert_started_at_once(run, rated=trigger not in UNRATED_TRIGGERS):
        return None
    advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=workflow, status=run.status)
    return run


def begin_deadline(run: Run, timeout_seconds: float | None) -> None:
    """Called when a run first starts: its run timeout counts from then."""
    if timeout_seconds:
        deadline = timezone.now() + timedelta(seconds=timeout_seconds)
        Run.objects.filter(pk=run.pk).update(deadline_at=deadline)
        Timer.objects.create(run=run, kind=TimerKind.RUN_TIMEOUT, due_at=deadline)
        run.deadline_at = deadline


ENDABLE_BY_OWNER = (*ADVANCING_STATUSES, RunStatus.PAUSED)
"""A run its advancer ends: a run paused during its last step may still end (there is no next
step to hold back)."""
_ENDED_FIELDS = ("status", "output", "error", "finished_at", "stopped_at")


@rollups_in_key_order()  # a run's children end with it: their rollup rows too, in key order
def finish_run(
    run: Run,
    status: str,
    *,
    output: JSON = None,
    error: dict[str, Any] | None = None,
    only_if_owner: str | None = None,
    stopped_at: int | None = None,
) -> bool:
    """Inside a transaction: end a run, close what it waits on, end its children, tell its parent.

    Returns False when the run had already ended (or, with only_if_owner, lost its lease).
    `stopped_at` is the journal position where a failed or cancelled run stopped.
    """
    now = timezone.now()
    values = zip(_ENDED_FIELDS, (status, output, error, now, stopped_at), strict=True)
    params = [_run_field(name).get_db_prep_save(value, connection) for name, value in values]
    params += [run.pk, *sorted(TERMINAL_STATUSES)]
    if only_if_owner is not None:
        params += [only_if_owner, *ENDABLE_BY_OWNER]
    with prepared_cursor() as cursor:
        cursor.execute(_end_sql(only_if_owner is not None), params)
        ended = cursor.rowcount
    if not ended:
        return False
    run.status, run.output, run.error, run.finished_at = status, output, error, now
    left_open = what_is_left_open(run.pk)
    if left_open["open_timers"]:
        drop_timers(run.pk)
    if left_open["open_waits"]:
        # A graph that reached its end node may leave other branches waiting: close them too.
        Wait.objects.filter(run=run, status=WaitStatus.WAITING).update(status=WaitStatus.CANCELLED)
    if status != RunStatus.COMPLETED:
        # A run that completed has no step in flight.
        StepRecord.objects.filter(run=run, status__in=["queued", "dispatched"]).update(
            status="cancelled", finished_at=now
        )
    if left_open["open_tasks"]:
        # Nobody should be asked to decide for a run that is over.
        cancel_open_tasks([run.pk])
    if left_open["open_children"]:
        children = Run.objects.select_for_update().filter(parent=run)
        for child in children.exclude(status__in=TERMINAL_STATUSES):
            # Each child undoes its own work, as any cancelled run does.
            request_cancel(child, f"parent run {run.pk} ended {status}")
    if run.parent_id is not None:
        _tell_parent(run)
    if status == RunStatus.COMPLETED:
        transaction.on_commit(lambda: remember_output(run))
    if run.admission == ADMITTED:
        admit_next(run.workflow, run.concurrency_key)
    # Last: the rollup row is shared by every run of the workflow ending this minute, and its
    # lock is held until this transaction commits.
    add_run_ended(run)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=status)
    return True


@functools.cache
def _end_sql(by_owner: bool) -> str:
    """The UPDATE that ends a run still open (and, by_owner, still held by that advancer):
    sent at every run's end, so written once and prepared (engine.models.prepared)."""
    terminal = ", ".join(["%s"] * len(TERMINAL_STATUSES))
    condition = f"NOT status IN ({terminal})"
    if by_owner:
        held = ", ".join(["%s"] * len(ENDABLE_BY_OWNER))
        condition += f" AND lease_owner = %s AND status IN ({held})"
    ended = ", ".join(f"{_run_field(name).column} = %s" for name in _ENDED_FIELDS)
    return (
        f"UPDATE {Run._meta.db_table} SET {ended}, "  # noqa: S608
        "lease_owner = '', lease_until = NULL, wake_requested = false "
        f"WHERE id = %s AND {on_the_row(condition)}"
    )


def _run_field(name: str) -> Any:
    return Run._meta.get_field(name)


def _tell_parent(child: Run) -> None:
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


def cancel_run(run_id: int, *, reason: str = "cancelled", compensate: bool | None = None) -> Run:
    """Cancel a run that has not ended, and its children.

    A run that did something first undoes it: its compensations (a Saga's, a graph's
    compensation nodes) run newest first while it is `cancelling`, then it ends `cancelled`.
    Runs whose workflow opted out, and `compensate=False`, end at once; `compensate=False` on a
    cancelling run stops its undoing where it is. Except while a worker runs one of its steps:
    the run is `cancelling` until that step is recorded, then ends without undoing anything.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_terminal:
            raise RunStateError(f"run {run_id} already ended {run.status}")
        if run.status == RunStatus.CANCELLING and compensate is not False:
            raise RunStateError(
                f"run {run_id} is already cancelling: it is undoing its steps; cancel it with "
                "compensate=false to stop at once without finishing the undo"
            )
        request_cancel(run, reason, compensate=compensate)
    return run


def request_cancel(
    run: Run,
    reason: str,
    *,
    status: RunStatus = RunStatus.CANCELLED,
    compensate: bool | None = None,
) -> None:
    """Inside a transaction, with the run locked: cancel it (or time it out), undoing its
    steps first unless it has nothing to undo or must not."""
    held = _held_by_an_advancer(run)
    if run.status == RunStatus.CANCELLING:
        if compensate is False:
            told = CancelRequest.from_error(run.error)
            if held:
                # It stops undoing at its next compensation with work to do.
                _hand_to_the_advancer(run, replace(told, undo=False).as_error())
            else:
                finish_run(run, RunStatus(told.status), error=_ended_by(told), stopped_at=None)
        return
    if compensate is None:
        compensate = _undoes_on_cancel(run, step_running=held)
    request = CancelRequest(reason, str(status), undo=compensate)
    if not compensate and not held:
        finish_run(run, status, error=_ended_by(request))
        return
    # An advancer holding the run keeps its lease: it records the step it is running (so the
    # undo covers it, and a retry does not run it again) and meets the cancellation at its next
    # position, where it undoes what it did or, told not to, ends there.
    _hand_to_the_advancer(run, request.as_error())


def _ended_by(request: CancelRequest) -> dict[str, Any]:
    """The error of a run a cancellation ended: what the request says, without its flags."""
    return {key: value for key, value in request.as_error().items() if key != "undo"}


def _held_by_an_advancer(run: Run) -> bool:
    """Whether a worker is carrying the run out right now (its lease is live): a step of it
    may be running."""
    return (
        bool(run.lease_owner) and run.lease_until is not None and run.lease_until > timezone.now()
    )


def _hand_to_the_advancer(run: Run, error: dict[str, Any]) -> None:
    """Make the run cancelling with `error` (a CancelRequest's): its advancer carries it out."""
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.CANCELLING,
        error=error,
        wake_requested=True,
        dispatched_at=timezone.now(),
    )
    drop_timers(run.pk, TimerKind.RUN_TIMEOUT)
    run.status, run.error = RunStatus.CANCELLING, error
    advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)


def _undoes_on_cancel(run: Run, *, step_running: bool = False) -> bool:
    """Whether cancelling this run runs its compensations: it started (it has a step recorded,
    or one running), and its workflow has not opted out (a graph without compensation nodes
    has nothing to undo)."""
    if not step_running and not StepRecord.objects.filter(run=run).exists():
        return False
    try:
        return resolve(run.workflow, run.version).definition.compensate_on_cancel
    except UnknownWorkflow:
        return False


def retry_run(run_id: int) -> Run:
    """Run a failed, cancelled or timed-out run again from where it stopped.

    Steps that completed stay done, except those a compensation undid: they run again (see
    engine.core.redo for the whole rule). Children it waits for are retried with it.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status not in RETRYABLE_STATUSES:
            raise RunStateError(
                f"only failed, cancelled or timed-out runs can be retried; run {run_id} is "
                f"{run.status}"
            )
        _retry_locked(run)
        run.refresh_from_db()
    return run


def _retry_locked(run: Run) -> None:
    records = StepRecord.objects.filter(run=run, superseded=False).values_list(
        "seq", "branch", "kind", "status", "detail", "child_run_id"
    )
    rows = [
        JournalRow(
            seq,
            branch,
            kind,
            status,
            Position.from_json(detail.get("undoes")) if isinstance(detail, dict) else None,
            child_run_id,
        )
        for seq, branch, kind, status, detail, child_run_id in records
    ]
    plan = plan_retry(rows, run.stopped_at)
    _set_aside(run, plan.resume_at, plan.set_aside)
    Timer.objects.filter(run=run).delete()
    redo = dict(run.redo) if isinstance(run.redo, dict) else {}
    for position in plan.redo:
        redo[position_key(position)] = int(redo.get(position_key(position), 0)) + 1
    for child in Run.objects.select_for_update().filter(pk__in=plan.children):
        if child.status in RETRYABLE_STATUSES:
            _retry_locked(child)

    # The run's end cancelled its open tasks; the waits that run again need them open.
    reopen_cancelled_tasks(run.pk)
    now = timezone.now()
    # When it stood stopped: its timeline must not show that time as queueing for a worker.
    stop = {"ended": (run.finished_at or now).isoformat(), "retried": now.isoformat()}
    stops = [*(run.stops if isinstance(run.stops, list) else []), stop]
    # A retried run gets its whole run timeout again, counted from now.
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.PENDING,
        stops=stops,
        error=None,
        output=None,
        finished_at=None,
        stopped_at=None,
        deadline_at=None,
        redo=redo,
        dispatched_at=now,
        wake_requested=False,
    )
    advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=RunStatus.PENDING)


def _set_aside(run: Run, resume_at: int | None, positions: frozenset[Position]) -> None:
    """Mark the journal records at these positions superseded: kept, no longer replayed."""
    records = StepRecord.objects.filter(run=run, superseded=False)
    rest = positions
    if resume_at is not None:
        records.filter(seq__gt=resume_at).update(superseded=True)
        rest = frozenset(position for position in positions if position.seq <= resume_at)
    if rest:
        where = Q()
        for position in rest:
            where |= Q(seq=position.seq, branch=position.branch)
        records.filter(where).update(superseded=True)
    waits = {position.seq for position in positions if position.branch == 0}
    Wait.objects.filter(run=run).filter(
        Q(seq__in=waits) | (Q(seq__gt=resume_at) if resume_at is not None else Q(pk__in=[]))
    ).delete()


def pause_run(run_id: int) -> Run:
    """Stop advancing a run before its next step; timers and events are kept for when it
    resumes. A step already running finishes and is recorded."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_terminal or run.status in (RunStatus.PAUSED, RunStatus.CANCELLING):
            raise RunStateError(f"run {run_id} is {run.status} and cannot be paused")
        # The lease stays with an advancer that holds it: it records its step, then lets go.
        Run.objects.filter(pk=run.pk).update(status=RunStatus.PAUSED)
        run.refresh_from_db()
        send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run


def resume_run(run_id: int) -> Run:
    """Resume a paused run: it replays its journal and carries on."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.PAUSED:
            raise RunStateError(f"run {run_id} is {run.status}, not paused")
        held = _held_by_an_advancer(run)
        # An advancer still in its step simply goes on. A run paused before its start time
        # waits for it again: its start timer sends it then (one that came due meanwhile has
        # gone, and the run is sent on now). Otherwise the run is sent on.
        if held:
            status = RunStatus.RUNNING
        elif (
            run.started_at is None and Timer.objects.filter(run=run, kind=TimerKind.START).exists()
        ):
            status = RunStatus.SCHEDULED
        else:
            status = RunStatus.PENDING
        changes: dict[str, Any] = {"status": status}
        if status != RunStatus.SCHEDULED:
            changes["dispatched_at"] = timezone.now()
        Run.objects.filter(pk=run.pk).update(**changes)
        run.refresh_from_db()
        if status == RunStatus.PENDING:
            advance_on_commit(run.pk)
        send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run
