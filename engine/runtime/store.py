"""The journal in the database: the Django implementation of the core's Backend protocol.

What each kind of entry writes lives here; how a write is fenced to the advancer holding the
run lives in engine.runtime.fence."""

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from engine.core.journal import (
    CancelRequest,
    Entry,
    EntryKind,
    EntryStatus,
    Position,
    Reports,
    StepCallSpec,
    WaitSpec,
)
from engine.core.values import JSON
from engine.human import settle_task_wait
from engine.messaging.dispatch import run_branch_on_commit
from engine.messaging.signals import announce_step
from engine.models import (
    HumanTask,
    Run,
    StepRecord,
    Timer,
    TimerKind,
    Wait,
    WaitStatus,
)
from engine.runtime.fence import FencedWriter
from engine.runtime.journal_reads import entry_of
from engine.runtime.limits import check_child_start
from engine.runtime.mailbox import event_output, find_buffered_event, lock_channels, match_key_of
from engine.runtime.records import apply_child_outcome
from engine.runtime.rollups import add_step_values, step_values
from engine.runtime.run_timers import drop_timers
from engine.runtime.runs import create_run
from engine.runtime.step_input import attempt_detail

_MISSING = object()


def cancel_error(request: CancelRequest) -> dict[str, Any]:
    return request.as_error()


class DjangoBackend(FencedWriter):
    """Writes one run's journal; every write goes through the fence (engine.runtime.fence)."""

    # --- steps and values -------------------------------------------------------------------
    def record_step(
        self,
        seq: int,
        name: str,
        attempt: int,
        started_at: datetime,
        *,
        status: EntryStatus,
        output: Any = None,
        error: dict[str, Any] | None = None,
        retry_at: datetime | None = None,
        undoes: Position | None = None,
        logs: list[dict[str, Any]] | None = None,
        traceback: str | None = None,
        input: Any = None,
        reports: Reports,
    ) -> None:
        detail = attempt_detail(undoes=undoes, traceback=traceback, input=input)
        finished_at = timezone.now()
        rollup = step_values(
            run_id=self.run_id,
            workflow=self.run.workflow,
            step=name,
            status=status,
            started_at=started_at,
            finished_at=finished_at,
        )
        if not reports.metrics and retry_at is None:
            record = StepRecord(
                run_id=self.run_id,
                seq=seq,
                attempt=attempt,
                kind=EntryKind.STEP,
                name=name,
                status=status,
                output=output,
                error=error,
                detail=detail,
                logs=logs,
                started_at=started_at,
                finished_at=finished_at,
            )
            self._hold_back(record, rollup, reports.progress)
            return
        with self._writing(reports):
            self._insert(
                StepRecord(
                    run_id=self.run_id,
                    seq=seq,
                    attempt=attempt,
                    kind=EntryKind.STEP,
                    name=name,
                    status=status,
                    output=output,
                    error=error,
                    detail=detail,
                    logs=logs,
                    started_at=started_at,
                    finished_at=finished_at,
                    retry_at=retry_at,
                )
            )
            if rollup is not None:
                add_step_values(rollup)
            if retry_at is not None and retry_at > timezone.now():
                Timer.objects.create(
                    run_id=self.run_id, kind=TimerKind.WAKE, due_at=retry_at, seq=seq
                )

    # --- cancellation -------------------------------------------------------------------------
    def record_cancel(self, seq: int, request: CancelRequest, reports: Reports) -> None:
        self._record_instant(
            seq,
            EntryKind.CANCEL,
            "cancel",
            EntryStatus.CANCELLED,
            reports,
            error=cancel_error(request),
        )

    def cancel_entry(self, seq: int) -> Entry:
        request = self.cancel_request
        assert request is not None
        now = timezone.now()
        with self._writing(Reports()):
            record = (
                StepRecord.objects.select_for_update()
                .filter(run_id=self.run_id, seq=seq, branch=0, superseded=False)
                .order_by("-attempt")
                .first()
            )
            assert record is not None
            # The run's row is held (the fence): skip a wake the timer loop is firing.
            drop_timers(self.run_id, seq=seq)
            if record.status == EntryStatus.RETRYING:
                # The failed attempt stays as it was; the attempt that will not happen says why.
                record = StepRecord(
                    run_id=self.run_id,
                    seq=seq,
                    attempt=record.attempt + 1,
                    kind=record.kind,
                    name=record.name,
                    status=EntryStatus.CANCELLED,
                    error=cancel_error(request),
                    started_at=now,
                    finished_at=now,
                )
                self._insert(record)
                return entry_of(record)
            Wait.objects.filter(run_id=self.run_id, seq=seq, status=WaitStatus.WAITING).update(
                status=WaitStatus.CANCELLED
            )
            # A group's steps not yet started never will; those running finish on their own.
            StepRecord.objects.filter(
                run_id=self.run_id,
                seq=seq,
                branch__gt=0,
                superseded=False,
                status__in=["queued", EntryStatus.RETRYING],
            ).update(status=EntryStatus.CANCELLED, finished_at=now)
            record.status = EntryStatus.CANCELLED
            record.error = cancel_error(request)
            record.finished_at = now
            record.save(update_fields=["status", "error", "finished_at"])
            announce_step(record)
        return entry_of(record)

    def record_value(self, seq: int, name: str, value: Any, reports: Reports) -> None:
        self._record_instant(
            seq, EntryKind.VALUE, name, EntryStatus.COMPLETED, reports, output=value
        )

    def _record_instant(
        self,
        seq: int,
        kind: EntryKind,
        name: str,
        status: EntryStatus,
        reports: Reports,
        *,
        output: Any = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        """Journal something that happens in an instant: a value, where a cancel struck."""
        now = timezone.now()
        with self._writing(reports):
            self._insert(
                StepRecord(
                    run_id=self.run_id,
                    seq=seq,
                    kind=kind,
                    name=name,
                    status=status,
                    output=output,
                    error=error,
                    started_at=now,
                    finished_at=now,
                )
            )

    def begin_sleep(self, seq: int, name: str, until: datetime, reports: Reports) -> None:
        now = timezone.now()
        with self._writing(reports):
            self._insert(
                StepRecord(
                    run_id=self.run_id,
                    seq=seq,
                    kind=EntryKind.SLEEP,
                    name=name,
                    status=EntryStatus.WAITING,
                    started_at=now,
                    wake_at=until,
                    detail={"until": until.isoformat()},
                )
            )
            Timer.objects.create(run_id=self.run_id, kind=TimerKind.WAKE, due_at=until, seq=seq)

    # --- events -----------------------------------------------------------------------------
    def begin_wait(self, seq: int, name: str, spec: WaitSpec, reports: Reports) -> Entry:
        now = timezone.now()
        with self._writing(reports):
            record = StepRecord(
                run_id=self.run_id,
                seq=seq,
                kind=EntryKind.WAIT,
                name=name,
                status=EntryStatus.WAITING,
                started_at=now,
                wake_at=spec.deadline,
                detail={
                    "event_types": list(spec.event_types),
                    "match": spec.match,
                    "filter": spec.filter,
                },
            )
            self._insert(record)
            channels = lock_channels(spec.event_types)
            event = find_buffered_event(self.run, seq, spec)
            if event is not None:
                record.status = EntryStatus.COMPLETED
                record.output = event_output(event)
                record.finished_at = now
                record.save(update_fields=["status", "output", "finished_at"])
                return entry_of(record)
            fields, key = match_key_of(spec.match)
            for channel in channels.values():
                # Deliveries look up open waits by each shape, instead of scanning them all.
                if fields and fields not in channel.match_shapes:
                    channel.match_shapes = [*channel.match_shapes, fields]
                    channel.save(update_fields=["match_shapes"])
            Wait.objects.bulk_create(
                [
                    Wait(
                        run_id=self.run_id,
                        seq=seq,
                        event_type=event_type,
                        match=spec.match,
                        match_fields=fields,
                        match_key=key,
                        filter=spec.filter or "",
                        filter_scope=spec.scope,
                        deadline=spec.deadline,
                        created_at=now,
                    )
                    for event_type in spec.event_types
                ]
            )
            if spec.deadline is not None:
                Timer.objects.create(
                    run_id=self.run_id, kind=TimerKind.WAKE, due_at=spec.deadline, seq=seq
                )
        return entry_of(record)

    def expire_wait(self, seq: int) -> Entry:
        with self._writing(Reports()):
            record = StepRecord.objects.select_for_update().get(
                run_id=self.run_id, seq=seq, branch=0, superseded=False, kind=EntryKind.WAIT
            )
            if record.status == EntryStatus.WAITING:
                # Conditional on the wait still being open: an event that won the race wins.
                Wait.objects.filter(run_id=self.run_id, seq=seq, status=WaitStatus.WAITING).update(
                    status=WaitStatus.EXPIRED
                )
                record.status = EntryStatus.FAILED
                record.error = {"type": "WaitTimeout", "message": "no matching event in time"}
                record.finished_at = timezone.now()
                record.save(update_fields=["status", "error", "finished_at"])
                announce_step(record)
        return entry_of(record)

    # --- people -----------------------------------------------------------------------------
    def await_task(
        self,
        seq: int,
        name: str,
        task_id: int,
        deadline: datetime | None,
        closes: bool,
        reports: Reports,
    ) -> Entry:
        now = timezone.now()
        with self._writing(reports):
            # The task's row lock orders this against a decision being recorded.
            task = HumanTask.objects.select_for_update().get(pk=task_id)
            record = StepRecord(
                run_id=self.run_id,
                seq=seq,
                kind=EntryKind.TASK,
                name=name,
                status=EntryStatus.WAITING,
                started_at=now,
                wake_at=deadline,
                detail={"task": task_id, "closes": closes},
            )
            settle_task_wait(record, task)
            self._insert(record)
            if record.status == EntryStatus.WAITING and deadline is not None:
                Timer.objects.create(
                    run_id=self.run_id, kind=TimerKind.WAKE, due_at=deadline, seq=seq
                )
        return entry_of(record)

    def expire_task(self, seq: int) -> Entry:
        # Lock order, as in engine.human.decide_task: the run (the fence), the task, the wait.
        with self._writing(Reports()):
            found = StepRecord.objects.get(
                run_id=self.run_id, seq=seq, branch=0, superseded=False, kind=EntryKind.TASK
            )
            task = HumanTask.objects.select_for_update().get(pk=(found.detail or {})["task"])
            record = StepRecord.objects.select_for_update().get(pk=found.pk)
            if record.status == EntryStatus.WAITING:
                settle_task_wait(record, task)
                record.save(update_fields=["status", "output", "error", "finished_at"])
                announce_step(record)
        return entry_of(record)

    # --- children ---------------------------------------------------------------------------
    def start_child(
        self,
        seq: int,
        name: str,
        workflow: str,
        input: JSON,
        idempotency_key: str | None,
        detached: bool,
        reports: Reports,
    ) -> int:

        now = timezone.now()
        with self._writing(reports):
            depth = check_child_start(self.run)
            child = create_run(
                workflow,
                input,
                trigger="child",
                parent=None if detached else self.run,
                depth=depth,
                trigger_ref=f"{'detached from' if detached else 'child of'} run {self.run_id}",
                idempotency_key=idempotency_key,
            )
            self._insert(
                StepRecord(
                    run_id=self.run_id,
                    seq=seq,
                    kind=EntryKind.CHILD_START,
                    name=name,
                    status=EntryStatus.COMPLETED,
                    output={"run_id": child.pk},
                    child_run=child,
                    started_at=now,
                    finished_at=now,
                )
            )
        return int(child.pk)

    def await_child(self, seq: int, name: str, child_run_id: int, reports: Reports) -> Entry:
        now = timezone.now()
        with self._writing(reports):
            # Locking the child orders this check against the child's own completion.
            child = Run.objects.select_for_update().get(pk=child_run_id)
            record = StepRecord(
                run_id=self.run_id,
                seq=seq,
                kind=EntryKind.CHILD_RESULT,
                name=name,
                status=EntryStatus.WAITING,
                child_run=child,
                started_at=now,
            )
            if child.is_terminal:
                apply_child_outcome(record, child)
            self._insert(record)
        return entry_of(record)

    # --- fan-out ----------------------------------------------------------------------------
    def begin_parallel(
        self,
        seq: int,
        name: str,
        calls: list[StepCallSpec],
        concurrency: int | None,
        reports: Reports,
    ) -> Entry:
        now = timezone.now()
        with self._writing(reports):
            # A retried run keeps the steps of this group that completed (see engine.core.redo).
            kept = {
                record.branch: record.output
                for record in StepRecord.objects.filter(
                    run_id=self.run_id,
                    seq=seq,
                    branch__gt=0,
                    superseded=False,
                    status=EntryStatus.COMPLETED,
                )
            }
            to_run = [(n + 1, call) for n, call in enumerate(calls) if n + 1 not in kept]
            limit = len(to_run) if concurrency is None else min(concurrency, len(to_run))
            group = StepRecord(
                run_id=self.run_id,
                seq=seq,
                kind=EntryKind.PARALLEL,
                name=name,
                status=EntryStatus.WAITING if to_run else EntryStatus.COMPLETED,
                output=None if to_run else [kept.get(index + 1) for index in range(len(calls))],
                started_at=now,
                finished_at=None if to_run else now,
                detail={
                    "count": len(calls),
                    "concurrency": concurrency,
                    "dispatched": limit,
                    "finished": len(calls) - len(to_run),
                },
            )
            self._insert(group)
            StepRecord.objects.bulk_create(
                [
                    StepRecord(
                        run_id=self.run_id,
                        seq=seq,
                        branch=branch,
                        kind=EntryKind.STEP,
                        name=call.name,
                        status="dispatched" if order < limit else "queued",
                        started_at=now,
                        detail={"step": call.step_key, "args": call.args, "kwargs": call.kwargs},
                    )
                    for order, (branch, call) in enumerate(to_run)
                ]
            )
            for branch, _ in to_run[:limit]:
                run_branch_on_commit(self.run_id, seq, branch)
        return entry_of(group)

    # --- cache ------------------------------------------------------------------------------
    def cache_get(self, key: str) -> tuple[bool, Any]:
        value = cache.get(key, _MISSING)
        return (False, None) if value is _MISSING else (True, value)

    def cache_set(self, key: str, value: Any, ttl_seconds: float) -> None:
        cache.set(key, value, timeout=ttl_seconds)
