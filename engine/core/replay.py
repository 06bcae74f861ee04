"""The replay machine: the state of one workflow execution against its journal.

Where code runs (inside a workflow, inside a step attempt) and running one attempt of a step
are in engine.core.context; this module walks the journal. It reads steps, calls and
workflows by their shapes (engine.core.shapes): their definitions call into it.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.core.bulkheads import slot_held
from engine.core.context import ChildRun, StepInfo, run_step_attempt
from engine.core.durations import later
from engine.core.errors import (
    Cancelled,
    ChildWorkflowFailed,
    NonDeterminismError,
    RunCancelled,
    StepFailed,
    Suspend,
    WaitTimeout,
    describe_exception,
    short_traceback,
)
from engine.core.journal import (
    Backend,
    CancelRequest,
    Entry,
    EntryKind,
    EntryStatus,
    Position,
    Reports,
    StepCallSpec,
    WaitSpec,
)
from engine.core.logs import LogBook
from engine.core.retry import deferred_attempts, is_deferral
from engine.core.shapes import ReplayedCall, ReplayedStep, WorkflowDefaults
from engine.core.values import JSON, to_json_value

if TYPE_CHECKING:
    from engine.core.calendar import BusinessCalendar


class ExecutionContext:
    """Walks the workflow through its journal: replays recorded positions, records new ones."""

    def __init__(self, backend: Backend, journal: dict[int, Entry]) -> None:
        self.backend = backend
        self.journal = journal
        self.seq = 0
        self.last_recorded = max(journal, default=-1)
        self.reports = Reports()
        self.last_position: Position | None = None
        """The step (or parallel group) the workflow ran last: what a compensation added
        now undoes."""
        self.step_positions: dict[str, Position] = {}
        self.cancelled: RunCancelled | None = None
        self.cancelled_at: int | None = None
        self.workflow: WorkflowDefaults | None = None
        """The definition being executed, for its defaults (e.g. its business calendar)."""
        # The failures raised from journal entries, so the run knows where it stopped.
        self._failures: list[tuple[BaseException, int]] = []

    @property
    def replaying(self) -> bool:
        return self.seq <= self.last_recorded

    def _next(self, kind: EntryKind, name: str) -> tuple[int, Entry | None]:
        # The previous step's result is durable before this position does anything; writing
        # it may also find the run cancelled or paused meanwhile.
        self.backend.write_held()
        seq = self.seq
        self.seq += 1
        entry = self.journal.get(seq)
        if entry is not None and entry.status == EntryStatus.CANCELLED:
            raise self._deliver_cancel(seq, entry.error)
        if self.cancelled is None and seq >= self.last_recorded:
            entry = self._interrupt_if_requested(seq, entry)
        elif seq >= self.last_recorded:
            self._stop_undoing_if_told(entry)
        if entry is not None and (entry.kind != kind or entry.name != name):
            raise NonDeterminismError(seq, f"{entry.kind} {entry.name!r}", f"{kind} {name!r}")
        return seq, entry

    # --- cancelling and pausing ---------------------------------------------------------------
    # A cancellation reaches the workflow at its frontier, the first position with work to do
    # or to wait for, and is journaled there: a replay meets it at the same place. Only then
    # can compensations run at the positions after it without breaking determinism.
    def _interrupt_if_requested(self, seq: int, entry: Entry | None) -> Entry | None:
        unsettled = entry is None or entry.status in (EntryStatus.WAITING, EntryStatus.RETRYING)
        if not unsettled:
            return entry
        if self.backend.pause_requested and (entry is None or entry.status == EntryStatus.RETRYING):
            raise Cancelled()  # paused: stop before doing anything new
        request = self.backend.cancel_request
        if request is None:
            return entry
        if entry is None:
            self.backend.record_cancel(seq, request, self._take_reports())
            recorded = Entry(seq, EntryKind.CANCEL, "cancel", EntryStatus.CANCELLED)
        else:
            recorded = self.backend.cancel_entry(seq)
        self.journal[seq] = recorded
        raise self._deliver_cancel(seq, request.as_error())

    def _deliver_cancel(self, seq: int, error: dict[str, Any] | None) -> RunCancelled:
        request = CancelRequest.from_error(error)
        self.cancelled = RunCancelled(request.reason, request.status, undo=request.undo)
        self.cancelled_at = seq
        return self.cancelled

    def _stop_undoing_if_told(self, entry: Entry | None) -> None:
        """While compensating: a cancellation that came since and said not to undo (cancel
        with compensate=False) stops the undoing at the next compensation with work to do."""
        request = self.backend.cancel_request
        cancelled = self.cancelled
        unsettled = entry is None or entry.status in (EntryStatus.WAITING, EntryStatus.RETRYING)
        if cancelled is not None and cancelled.undo and unsettled and request and not request.undo:
            raise RunCancelled(cancelled.reason, cancelled.status, undo=False)

    def _stop_for_cancel_instead_of_waiting(self, name: str) -> None:
        """Called where the workflow would suspend without taking a position."""
        if self.cancelled is None and (
            self.backend.cancel_request is not None or self.backend.pause_requested
        ):
            self._next(EntryKind.VALUE, name)  # takes the frontier and raises there

    # --- where the run stopped ----------------------------------------------------------
    def _failed(self, error: BaseException, seq: int) -> BaseException:
        self._failures.append((error, seq))
        return error

    def failure_position(self, error: BaseException) -> int | None:
        """The journal position whose failure ended the run, if it came from one."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            for failure, seq in self._failures:
                if failure is current:
                    return seq
            current = current.__cause__ or current.__context__
        return None

    # --- steps ------------------------------------------------------------------------------
    def call_step(
        self,
        step: ReplayedStep,
        args: list[Any],
        kwargs: dict[str, Any],
        undoes: Position | None = None,
    ) -> Any:
        seq, entry = self._next(EntryKind.STEP, step.name)
        self.last_position = self.step_positions[step.name] = Position(seq)
        attempt = 1
        deferred = 0  # attempts that waited for a rate limit's slot: not failures
        if entry is not None:
            if entry.status == EntryStatus.COMPLETED:
                return entry.output
            if entry.status == EntryStatus.FAILED:
                raise self._failed(StepFailed(step.name, entry.error or {}, entry.attempt), seq)
            if entry.status == EntryStatus.RETRYING:
                if entry.retry_at is not None and self.backend.now() < entry.retry_at:
                    raise Suspend(f"step {step.name!r} retries at {entry.retry_at.isoformat()}")
                attempt = entry.attempt + 1
                deferred = deferred_attempts(entry.error)
        cache_key = _cache_key(step, args, kwargs) if step.cache_ttl else None
        if cache_key is not None:
            hit, cached = self.backend.cache_get(cache_key)
            if hit:
                self.backend.record_step(
                    seq,
                    step.name,
                    attempt,
                    self.backend.now(),
                    status=EntryStatus.COMPLETED,
                    output=cached,
                    undoes=undoes,
                    reports=self._take_reports(),
                )
                return cached
        generation = self.backend.generation(Position(seq))
        with slot_held(self.backend, self.backend.run_id, Position(seq), step.bulkhead, step.name):
            return self._attempt_step(
                step, args, kwargs, seq, (attempt, deferred), generation, undoes, cache_key
            )

    def _attempt_step(
        self,
        step: ReplayedStep,
        args: list[Any],
        kwargs: dict[str, Any],
        seq: int,
        attempts: tuple[int, int],
        generation: int,
        undoes: Position | None,
        cache_key: str | None,
    ) -> Any:
        # This attempt's number, and how many before it only waited for a rate limit's slot.
        attempt, deferred = attempts
        while True:
            started = self.backend.now()
            info = StepInfo(self.backend.run_id, seq, step.name, attempt, generation)
            logbook = LogBook()
            try:
                output = to_json_value(run_step_attempt(step, args, kwargs, info, logbook=logbook))
            except Exception as exc:
                error = describe_exception(exc)
                deferred += is_deferral(exc)
                if deferred:
                    error["deferred"] = deferred
                if not step.retry.should_retry(exc, attempt - deferred):
                    self.backend.record_step(
                        seq,
                        step.name,
                        attempt,
                        started,
                        status=EntryStatus.FAILED,
                        error=error,
                        undoes=undoes,
                        logs=logbook.recorded(),
                        input=logbook.input_or(args, kwargs),
                        traceback=short_traceback(exc),
                        reports=self._take_reports(),
                    )
                    raise self._failed(StepFailed(step.name, error, attempt), seq) from exc
                delay = step.retry.wait_after(exc, attempt - deferred, info.idempotency_key)
                retry_at = later(self.backend.now(), delay, f"retry wait of {step.name!r}")
                self.backend.record_step(
                    seq,
                    step.name,
                    attempt,
                    started,
                    status=EntryStatus.RETRYING,
                    error=error,
                    retry_at=retry_at,
                    undoes=undoes,
                    logs=logbook.recorded(),
                    input=logbook.input_or(args, kwargs),
                    traceback=short_traceback(exc),
                    reports=self._take_reports(),
                )
                if delay > 0:
                    raise Suspend(f"step {step.name!r} retries in {delay:.3g}s") from None
                attempt += 1
                continue
            self.backend.record_step(
                seq,
                step.name,
                attempt,
                started,
                status=EntryStatus.COMPLETED,
                output=output,
                undoes=undoes,
                logs=logbook.recorded(),
                input=logbook.input_or(args, kwargs),
                reports=self._take_reports(),
            )
            if cache_key is not None and step.cache_ttl:
                self.backend.cache_set(cache_key, output, step.cache_ttl)
            return output

    # --- time and values --------------------------------------------------------------------
    def sleep_until(self, until: datetime, name: str) -> None:
        seq, entry = self._next(EntryKind.SLEEP, name)
        if entry is None:
            self.backend.begin_sleep(seq, name, until, self._take_reports())
            wake_at = until
        elif entry.status == EntryStatus.COMPLETED:
            return
        else:
            wake_at = entry.wake_at or until
        if self.backend.now() < wake_at:
            raise Suspend(f"{name} until {wake_at.isoformat()}")

    def value(self, name: str, produce: Callable[[], Any]) -> Any:
        seq, entry = self._next(EntryKind.VALUE, name)
        if entry is not None:
            return entry.output
        value = to_json_value(produce())
        self.backend.record_value(seq, name, value, self._take_reports())
        return value

    # --- events -----------------------------------------------------------------------------
    def wait_for(self, spec: WaitSpec, name: str, timeout_seconds: float | None) -> Any:
        seq, entry = self._next(EntryKind.WAIT, name)
        if entry is None:
            entry = self.backend.begin_wait(seq, name, spec, self._take_reports())
        if (
            entry.status == EntryStatus.WAITING
            and entry.wake_at is not None
            and self.backend.now() >= entry.wake_at
        ):
            entry = self.backend.expire_wait(seq)
        if entry.status == EntryStatus.COMPLETED:
            return entry.output
        if entry.status == EntryStatus.FAILED:
            raise self._failed(WaitTimeout(spec.event_types, timeout_seconds or 0), seq)
        raise Suspend(f"waiting for {' or '.join(spec.event_types)}")

    # --- people ---------------------------------------------------------------------------
    def await_task(
        self,
        task_id: int,
        name: str,
        timeout_seconds: float | None,
        *,
        closes: bool,
        calendar: "BusinessCalendar | None" = None,
    ) -> Any:
        """Wait for a task's decision: {"task", "outcome", "decisions"} read from the task, with
        the outcome "timeout" when the deadline came first."""
        seq = self.begin_pending_task(
            task_id, name, timeout_seconds, closes=closes, calendar=calendar
        ).seq
        if self.pending_settled(seq):
            return self.outcome(seq, name)
        raise Suspend(f"waiting for a decision on task {task_id}")

    def begin_pending_task(
        self,
        task_id: int,
        name: str,
        timeout_seconds: float | None,
        *,
        closes: bool,
        calendar: "BusinessCalendar | None" = None,
    ) -> Entry:
        """Begin waiting on a task; its deadline counts working time when a calendar says so."""
        seq, entry = self._next(EntryKind.TASK, name)
        if entry is None:
            deadline = None
            if timeout_seconds is not None:
                now = self.backend.now()
                deadline = (
                    calendar.add(now, timeout_seconds)
                    if calendar is not None
                    else later(now, timeout_seconds, f"timeout of task {name!r}")
                )
            entry = self.backend.await_task(
                seq, name, task_id, deadline, closes, self._take_reports()
            )
            self.journal[seq] = entry
        return entry

    # --- children and fan-out -----------------------------------------------------------
    def start_child(
        self, workflow: str, input: JSON, idempotency_key: str | None, detached: bool = False
    ) -> ChildRun:
        seq, entry = self._next(EntryKind.CHILD_START, workflow)
        if entry is not None:
            return ChildRun(workflow, int(entry.output["run_id"]))
        run_id = self.backend.start_child(
            seq,
            workflow,
            workflow,
            to_json_value(input),
            idempotency_key,
            detached,
            self._take_reports(),
        )
        return ChildRun(workflow, run_id)

    def await_child(self, workflow: str, run_id: int) -> Any:
        seq, entry = self._next(EntryKind.CHILD_RESULT, workflow)
        if entry is None:
            entry = self.backend.await_child(seq, workflow, run_id, self._take_reports())
        if entry.status == EntryStatus.COMPLETED:
            return entry.output
        if entry.status == EntryStatus.FAILED:
            error = entry.error or {}
            raise self._failed(
                ChildWorkflowFailed(run_id, error.get("status", "failed"), error), seq
            )
        raise Suspend(f"waiting for child run {run_id} ({workflow})")

    def parallel(
        self, calls: Sequence[ReplayedCall], concurrency: int | None, name: str
    ) -> list[Any]:
        seq, entry = self._next(EntryKind.PARALLEL, name)
        if entry is None:
            specs = [
                StepCallSpec(
                    call.step.key,
                    call.step.name,
                    to_json_value(call.args),
                    to_json_value(call.kwargs),
                )
                for call in calls
            ]
            entry = self.backend.begin_parallel(seq, name, specs, concurrency, self._take_reports())
        self.last_position = Position(seq)
        if entry.status == EntryStatus.COMPLETED:
            return list(entry.output)
        if entry.status == EntryStatus.FAILED:
            error = entry.error or {}
            failure = StepFailed(
                error.get("step", name), error.get("cause", error), int(error.get("attempts", 1))
            )
            raise self._failed(failure, seq)
        raise Suspend(f"waiting for {len(calls)} parallel steps")

    # --- several waits at once -------------------------------------------------------------
    # A graph's parallel branches may each wait (a delay, an event, a child, a person). They
    # register their waits without suspending, then go on with whichever is settled first.
    # Which one that was is journaled (a VALUE), because a replay sees every wait that has
    # settled since, and must still take them in the order the first execution did.
    def begin_pending_sleep(self, until: datetime, name: str) -> Entry:
        seq, entry = self._next(EntryKind.SLEEP, name)
        if entry is None:
            self.backend.begin_sleep(seq, name, until, self._take_reports())
            entry = Entry(seq, EntryKind.SLEEP, name, EntryStatus.WAITING, wake_at=until)
            self.journal[seq] = entry
        return entry

    def begin_pending_wait(self, spec: WaitSpec, name: str) -> Entry:
        seq, entry = self._next(EntryKind.WAIT, name)
        if entry is None:
            entry = self.backend.begin_wait(seq, name, spec, self._take_reports())
            self.journal[seq] = entry
        return entry

    def begin_pending_child(self, workflow: str, run_id: int) -> Entry:
        seq, entry = self._next(EntryKind.CHILD_RESULT, workflow)
        if entry is None:
            entry = self.backend.await_child(seq, workflow, run_id, self._take_reports())
            self.journal[seq] = entry
        return entry

    def pending_settled(self, seq: int) -> bool:
        entry = self.journal[seq]
        if entry.status in (EntryStatus.COMPLETED, EntryStatus.FAILED):
            return True
        due = entry.wake_at is not None and self.backend.now() >= entry.wake_at
        return due and entry.kind in (EntryKind.SLEEP, EntryKind.WAIT, EntryKind.TASK)

    def choose_settled(self, seqs: list[int], name: str) -> int | None:
        """The first settled of these waits (journaled), or None if none is, without a record."""
        upcoming = self.journal.get(self.seq)
        recorded = upcoming is not None and upcoming.kind in (EntryKind.VALUE, EntryKind.CANCEL)
        if not recorded and not any(self.pending_settled(seq) for seq in seqs):
            self._stop_for_cancel_instead_of_waiting(name)
            return None

        def first() -> int:
            settled = [seq for seq in seqs if self.pending_settled(seq)]
            return min(settled, key=lambda seq: (self.journal[seq].wake_at is None, seq))

        chosen: int = self.value(name, first)
        return chosen

    def settle(self, seq: int) -> Entry:
        """The outcome of a settled wait; a wait past its deadline is expired now."""
        entry = self.journal[seq]
        if entry.kind == EntryKind.WAIT and entry.status == EntryStatus.WAITING:
            entry = self.backend.expire_wait(seq)
            self.journal[seq] = entry
        elif entry.kind == EntryKind.TASK and entry.status == EntryStatus.WAITING:
            entry = self.backend.expire_task(seq)
            self.journal[seq] = entry
        return entry

    def outcome(self, seq: int, name: str) -> Any:
        """A settled wait's result; its failure is raised (and known as where the run stopped)."""
        entry = self.settle(seq)
        if entry.kind == EntryKind.SLEEP:
            return None
        if entry.status == EntryStatus.COMPLETED:
            return entry.output
        if entry.kind == EntryKind.TASK:
            # A task nobody decided in time: the caller decides what a timeout means.
            return entry.output or {"task": None, "outcome": "timeout", "decisions": []}
        if entry.kind == EntryKind.WAIT:
            raise self._failed(WaitTimeout((name,), 0), seq)
        error = entry.error or {}
        output = entry.output
        run_id = int(output.get("run_id", 0)) if isinstance(output, dict) else 0
        raise self._failed(ChildWorkflowFailed(run_id, error.get("status", "failed"), error), seq)

    # --- progress and metrics -----------------------------------------------------------
    def report_progress(self, current: float, total: float | None, message: str | None) -> None:
        if not self.replaying:
            self.reports.progress = {"current": current, "total": total, "message": message}

    def report_metric(self, name: str, value: float) -> None:
        if not self.replaying:
            self.reports.report_metric(name, value, self.backend.now())

    def _take_reports(self) -> Reports:
        taken, self.reports = self.reports, Reports()
        return taken


def _cache_key(step: ReplayedStep, args: list[Any], kwargs: dict[str, Any]) -> str:
    payload = json.dumps([step.key, to_json_value(args), to_json_value(kwargs)], sort_keys=True)
    return "stepwise:step:" + hashlib.sha256(payload.encode()).hexdigest()
