"""Advancing runs and running parallel steps: what the Celery tasks call."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from engine.core.context import StepInfo, run_step_attempt
from engine.core.definitions import StepDefinition, get_step
from engine.core.errors import Cancelled, describe_exception, short_traceback
from engine.core.executor import execute
from engine.core.journal import EntryStatus, Position, Reports
from engine.core.logs import LogBook
from engine.core.retry import deferred_attempts, is_deferral
from engine.core.values import to_json_value
from engine.messaging.dispatch import advance_on_commit, run_branch_on_commit, wake
from engine.messaging.signals import announce_step, run_changed, send_on_commit
from engine.models import ADVANCING_STATUSES, Run, RunStatus, StepRecord, Timer, TimerKind
from engine.models.row_checks import checked_on_the_row
from engine.resilience import bulkheads
from engine.runtime.at_once import begin_deadline_at_once, end_completed_at_once
from engine.runtime.fence import write_reports
from engine.runtime.journal_reads import load_journal
from engine.runtime.leases import lease_until, leases, take_lease
from engine.runtime.records import position_key
from engine.runtime.resolving import UnknownWorkflow, resolve
from engine.runtime.rollups import add_step_values, rollups_in_key_order, step_values
from engine.runtime.runs import begin_deadline, finish_run
from engine.runtime.step_input import INPUT_KEY, kept_input
from engine.runtime.store import DjangoBackend

logger = logging.getLogger(__name__)


def advance(run_id: int) -> None:
    """Replay the run and carry it as far as it goes: to its end or its next wait."""
    took = take_lease(run_id)
    if took is None:
        return  # another worker advances it (and will see any wake request), or it ended
    taken, journaled = took
    owner = taken.lease_owner
    leases.hold(run_id, owner)
    try:
        run: Run | None = taken
        while True:
            # The first round uses the row the lease came with; a later one (a wake arrived
            # meanwhile) reads it again.
            if run is None:
                run = Run.objects.get(pk=run_id)
            if run.status not in ADVANCING_STATUSES or run.lease_owner != owner:
                if run.status == RunStatus.PAUSED and run.lease_owner == owner:
                    _release_if_paused(run_id, owner)
                return
            if run is taken and run.started_at and run.deadline_at is None:
                _begin(run)
            if not _advance_once(run, owner, journaled):
                return
            run, journaled = None, True
    finally:
        leases.release(run_id)


def _begin(run: Run) -> None:
    try:
        timeout = resolve(run.workflow, run.version).definition.timeout
    except UnknownWorkflow:
        return
    if (
        timeout
        and not begin_deadline_at_once(run, timeout)
        and not Timer.objects.filter(run=run, kind=TimerKind.RUN_TIMEOUT).exists()
    ):
        with transaction.atomic():
            begin_deadline(run, timeout)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)


def _advance_once(run: Run, owner: str, journaled: bool = True) -> bool:
    """One replay; True when a wake arrived meanwhile and the run must go round again.
    `journaled` False: the run has no journal entry yet, nothing to read."""
    try:
        definition = resolve(run.workflow, run.version).definition
    except UnknownWorkflow as missing:
        with transaction.atomic():
            finish_run(
                run,
                RunStatus.FAILED,
                only_if_owner=owner,
                error={"type": "UnknownWorkflow", "message": str(missing)},
            )
        return False
    backend = DjangoBackend(run, owner)
    try:
        journal = load_journal(run.pk) if journaled else {}
        outcome = execute(definition, run.input, backend, journal)
    except Cancelled:
        _release_if_paused(run.pk, owner)
        return False  # cancelled, paused or taken over: stop without writing anything more
    if (
        outcome.status == "completed"
        and not outcome.reports
        and end_completed_at_once(run, owner, backend, outcome.output)
    ):
        return False
    # The last reports' metrics and the run's ending land in rollup rows: in key order.
    with transaction.atomic(), rollups_in_key_order():
        try:
            # The last step held back (engine.runtime.fence) is committed with the ending.
            backend.flush(outcome.reports or Reports())
        except Cancelled:
            return False
        if outcome.status != "suspended":
            finish_run(
                run,
                _ENDS[outcome.status],
                output=outcome.output,
                error=outcome.error,
                only_if_owner=owner,
                stopped_at=outcome.stopped_at,
            )
            return False
        # A cancelling run may wait too (a compensation's retry back-off): it stays cancelling.
        suspended = Run.objects.filter(
            checked_on_the_row(
                lease_owner=owner, status__in=ADVANCING_STATUSES, wake_requested=False
            ),
            pk=run.pk,
        ).update(
            status=Case(
                When(status=RunStatus.RUNNING, then=Value(RunStatus.WAITING.value)),
                default=F("status"),
            ),
            lease_owner="",
            lease_until=None,
        )
        if suspended:
            if run.status == RunStatus.RUNNING:
                send_on_commit(
                    run_changed, run_id=run.pk, workflow=run.workflow, status=RunStatus.WAITING
                )
            return False
        # Not suspended: either a wake arrived (go round) or the lease is gone (stop).
        going_round = Run.objects.filter(
            checked_on_the_row(lease_owner=owner, status__in=ADVANCING_STATUSES), pk=run.pk
        ).update(wake_requested=False, lease_until=lease_until())
    if not going_round:
        _release_if_paused(run.pk, owner)
    return bool(going_round)


_ENDS = {
    "completed": RunStatus.COMPLETED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELLED,
    "timed_out": RunStatus.TIMED_OUT,
}


def _release_if_paused(run_id: int, owner: str) -> None:
    """An advancer that stopped for a pause lets the run go. If the run was resumed or
    cancelled meanwhile, it is sent on at once."""
    with transaction.atomic():
        released = Run.objects.filter(
            checked_on_the_row(
                lease_owner=owner,
                status__in=[RunStatus.PAUSED, RunStatus.RUNNING, RunStatus.CANCELLING],
            ),
            pk=run_id,
        ).update(
            lease_owner="",
            lease_until=None,
            status=Case(
                When(status=RunStatus.RUNNING, then=Value(RunStatus.PENDING.value)),
                default=F("status"),
            ),
            dispatched_at=timezone.now(),
        )
        moving = [RunStatus.PENDING, RunStatus.CANCELLING]
        if (
            released
            and Run.objects.filter(checked_on_the_row(status__in=moving), pk=run_id).exists()
        ):
            advance_on_commit(run_id)


class BranchReporter:
    """Collects what a parallel step reports, written with its result."""

    def __init__(self) -> None:
        self.reports = Reports()

    def report_progress(self, current: float, total: float | None, message: str | None) -> None:
        self.reports.report_progress(current, total, message)

    def report_metric(self, name: str, value: float) -> None:
        self.reports.report_metric(name, value, timezone.now())


def run_branch(run_id: int, seq: int, branch: int) -> None:
    """Run one step of a parallel group (at least once; its journaled result counts once)."""
    record = (
        StepRecord.objects.filter(run_id=run_id, seq=seq, branch=branch, superseded=False)
        .order_by("-attempt")
        .select_related("run")
        .first()
    )
    if record is None or record.status != "dispatched" or record.run.is_terminal:
        return
    step = get_step((record.detail or {}).get("step", ""))
    limit = step.bulkhead if step is not None else None
    if limit is not None and not bulkheads.enter(run_id, seq, branch, limit):
        return  # queued at the bulkhead, holding no worker: a release sends it again
    try:
        _run_branch_attempt(record, step)
    finally:
        if limit is not None:
            bulkheads.leave(run_id, seq, branch, limit)


def _run_branch_attempt(record: StepRecord, step: StepDefinition | None) -> None:
    run_id, seq, branch = record.run_id, record.seq, record.branch
    detail = record.detail or {}
    redo = record.run.redo if isinstance(record.run.redo, dict) else {}
    generation = int(redo.get(position_key(Position(seq, branch)), 0))
    info = StepInfo(run_id, seq, record.name, record.attempt, generation, branch)
    reporter = BranchReporter()
    logbook = LogBook()
    started = timezone.now()
    retry_at = None
    output: Any = None
    error: dict[str, Any] | None = None
    if step is None:
        status = EntryStatus.FAILED
        error = {"type": "UnknownStep", "message": f"no step registered as {detail.get('step')}"}
    else:
        try:
            output = to_json_value(
                run_step_attempt(
                    step,
                    list(detail.get("args", [])),
                    dict(detail.get("kwargs", {})),
                    info,
                    reporter,
                    logbook,
                )
            )
            status = EntryStatus.COMPLETED
        except Exception as exc:
            error = describe_exception(exc)
            # Where it failed, for people; beside the journaled error, which replays read.
            # The count of deferrals (waits for a rate limit's slot) goes on with the detail
            # the next attempt copies, so they never use up the retry policy's attempts.
            deferred = deferred_attempts(detail) + is_deferral(exc)
            detail = {**detail, "traceback": short_traceback(exc), "deferred": deferred}
            if step.retry.should_retry(exc, record.attempt - deferred):
                status = EntryStatus.RETRYING
                delay = step.retry.wait_after(exc, record.attempt - deferred, info.idempotency_key)
                retry_at = timezone.now() + timedelta(seconds=delay)
            else:
                status = EntryStatus.FAILED
    if logbook.has_input:
        # A graph node's rendered config; a code step's arguments are in the detail already.
        detail = {**detail, INPUT_KEY: kept_input(logbook.noted_input)}
    finished = timezone.now()
    # The step's and its metrics' rollup rows, in key order.
    with transaction.atomic(), rollups_in_key_order():
        group = (
            StepRecord.objects.select_for_update()
            .filter(run_id=run_id, seq=seq, branch=0, superseded=False)
            .first()
        )
        updated = StepRecord.objects.filter(pk=record.pk, status="dispatched").update(
            status=status,
            output=output,
            error=error,
            detail=detail,
            logs=logbook.recorded(),
            started_at=started,
            finished_at=finished,
            retry_at=retry_at,
        )
        if not updated or group is None:
            return  # a duplicate delivery already recorded this attempt
        rollup = step_values(
            run_id=run_id,
            workflow=record.run.workflow,
            step=record.name,
            status=status,
            started_at=started,
            finished_at=finished,
        )
        if rollup is not None:
            add_step_values(rollup)
        write_reports(run_id, reporter.reports, workflow=record.run.workflow)
        record.status = status
        announce_step(record)
        if status == EntryStatus.RETRYING:
            assert retry_at is not None
            Timer.objects.create(
                run_id=run_id, kind=TimerKind.BRANCH_RETRY, due_at=retry_at, seq=seq, branch=branch
            )
            return
        _branch_finished(group, branch, status, error, record.attempt)


def _branch_finished(
    group: StepRecord, branch: int, status: str, error: dict[str, Any] | None, attempts: int
) -> None:
    detail = dict(group.detail or {})
    detail["finished"] = detail.get("finished", 0) + 1
    if group.status != EntryStatus.WAITING:
        group.detail = detail
        group.save(update_fields=["detail"])
        return
    if status == EntryStatus.FAILED:
        group.status = EntryStatus.FAILED
        group.error = {
            "type": "StepFailed",
            "step": _branch_name(group, branch),
            "cause": error,
            "attempts": attempts,
        }
        group.finished_at = timezone.now()
        StepRecord.objects.filter(run_id=group.run_id, seq=group.seq, status="queued").update(
            status="cancelled"
        )
    else:
        queued = (
            StepRecord.objects.filter(
                run_id=group.run_id, seq=group.seq, status="queued", superseded=False
            )
            .order_by("branch")
            .first()
        )
        if queued is not None:
            queued.status = "dispatched"
            queued.save(update_fields=["status"])
            detail["dispatched"] = detail.get("dispatched", 0) + 1
            run_branch_on_commit(group.run_id, group.seq, queued.branch)
        if detail["finished"] >= detail.get("count", 0):
            outputs = {
                record.branch: record.output
                for record in StepRecord.objects.filter(
                    run_id=group.run_id,
                    seq=group.seq,
                    branch__gt=0,
                    superseded=False,
                    status=EntryStatus.COMPLETED,
                )
            }
            group.status = EntryStatus.COMPLETED
            group.output = [outputs.get(index + 1) for index in range(detail["count"])]
            group.finished_at = timezone.now()
    group.detail = detail
    group.save(update_fields=["detail", "status", "output", "error", "finished_at"])
    if group.status != EntryStatus.WAITING:
        announce_step(group)
        wake(group.run_id)


def _branch_name(group: StepRecord, branch: int) -> str:
    return (
        StepRecord.objects.filter(run_id=group.run_id, seq=group.seq, branch=branch)
        .values_list("name", flat=True)
        .first()
        or group.name
    )


def retry_branch(run_id: int, seq: int, branch: int) -> None:
    """Inside the timer's transaction: queue the next attempt of a parallel step."""
    last = (
        StepRecord.objects.filter(run_id=run_id, seq=seq, branch=branch, superseded=False)
        .order_by("-attempt")
        .first()
    )
    if last is None or last.status != EntryStatus.RETRYING:
        return
    StepRecord.objects.create(
        run_id=run_id,
        seq=seq,
        branch=branch,
        attempt=last.attempt + 1,
        kind=last.kind,
        name=last.name,
        status="dispatched",
        detail=last.detail,
        started_at=timezone.now(),
    )
    run_branch_on_commit(run_id, seq, branch)
