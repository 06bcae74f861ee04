"""The replay machine: the state of one workflow execution against its journal."""

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.errors import (
    ChildWorkflowFailed,
    NonDeterminismError,
    StepFailed,
    StepTimeout,
    Suspend,
    WaitTimeout,
    describe_exception,
)
from engine.core.journal import (
    Backend,
    Entry,
    EntryKind,
    EntryStatus,
    Reports,
    StepCallSpec,
    WaitSpec,
)
from engine.core.values import to_json_value

if TYPE_CHECKING:
    from engine.core.definitions import StepCall, StepDefinition

_current: contextvars.ContextVar["ExecutionContext | None"] = contextvars.ContextVar(
    "stepwise_execution", default=None
)
_step: contextvars.ContextVar["StepInfo | None"] = contextvars.ContextVar(
    "stepwise_step", default=None
)


class Reporter(Protocol):
    def report_progress(self, current: float, total: float | None, message: str | None) -> None: ...

    def report_metric(self, name: str, value: float) -> None: ...


# While a step runs, progress() and metric() report to the run that called it.
_reporter: contextvars.ContextVar["Reporter | None"] = contextvars.ContextVar(
    "stepwise_reporter", default=None
)

_step_overrides: contextvars.ContextVar[dict[str, Callable[..., Any]]] = contextvars.ContextVar(
    "stepwise_step_overrides",
    default={},  # noqa: B039 - never mutated, only replaced
)


def current_context() -> "ExecutionContext | None":
    return _current.get()


def current_step() -> "StepInfo | None":
    return _step.get()


@dataclass(frozen=True)
class StepInfo:
    """What a running step knows about itself."""

    run_id: int
    seq: int
    name: str
    attempt: int

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts, retries and replays of this step in this run."""
        return idempotency_key(self.run_id, self.seq, self.name)


def idempotency_key(run_id: int, seq: int, name: str) -> str:
    return f"stepwise:{run_id}:{seq}:{name}"


@dataclass(frozen=True)
class ChildRun:
    """A started child workflow; `result()` waits for it durably."""

    workflow: str
    run_id: int

    def result(self) -> Any:
        context = _require_context("ChildRun.result()")
        return context.await_child(self.workflow, self.run_id)


def _require_context(what: str) -> "ExecutionContext":
    context = _current.get()
    if context is None:
        from engine.core.errors import DefinitionError

        raise DefinitionError(f"{what} works only inside a running workflow")
    return context


class ExecutionContext:
    """Walks the workflow through its journal: replays recorded positions, records new ones."""

    def __init__(self, backend: Backend, journal: dict[int, Entry]) -> None:
        self.backend = backend
        self.journal = journal
        self.seq = 0
        self.last_recorded = max(journal, default=-1)
        self.reports = Reports()

    @property
    def replaying(self) -> bool:
        return self.seq <= self.last_recorded

    def _next(self, kind: EntryKind, name: str) -> tuple[int, Entry | None]:
        seq = self.seq
        self.seq += 1
        entry = self.journal.get(seq)
        if entry is not None and (entry.kind != kind or entry.name != name):
            raise NonDeterminismError(seq, f"{entry.kind} {entry.name!r}", f"{kind} {name!r}")
        return seq, entry

    # --- steps ------------------------------------------------------------------------------
    def call_step(self, step: "StepDefinition", args: list[Any], kwargs: dict[str, Any]) -> Any:
        seq, entry = self._next(EntryKind.STEP, step.name)
        attempt = 1
        if entry is not None:
            if entry.status == EntryStatus.COMPLETED:
                return entry.output
            if entry.status == EntryStatus.FAILED:
                raise StepFailed(step.name, entry.error or {}, entry.attempt)
            if entry.status == EntryStatus.RETRYING:
                if entry.retry_at is not None and self.backend.now() < entry.retry_at:
                    raise Suspend(f"step {step.name!r} retries at {entry.retry_at.isoformat()}")
                attempt = entry.attempt + 1
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
                    reports=self._take_reports(),
                )
                return cached
        while True:
            started = self.backend.now()
            info = StepInfo(self.backend.run_id, seq, step.name, attempt)
            try:
                output = to_json_value(run_step_attempt(step, args, kwargs, info))
            except Exception as exc:
                error = describe_exception(exc)
                if not step.retry.should_retry(exc, attempt):
                    self.backend.record_step(
                        seq,
                        step.name,
                        attempt,
                        started,
                        status=EntryStatus.FAILED,
                        error=error,
                        reports=self._take_reports(),
                    )
                    raise StepFailed(step.name, error, attempt) from exc
                delay = step.retry.delay(attempt, seed=info.idempotency_key)
                retry_at = self.backend.now() + timedelta(seconds=delay)
                self.backend.record_step(
                    seq,
                    step.name,
                    attempt,
                    started,
                    status=EntryStatus.RETRYING,
                    error=error,
                    retry_at=retry_at,
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
            raise WaitTimeout(spec.event_types, timeout_seconds or 0)
        raise Suspend(f"waiting for {' or '.join(spec.event_types)}")

    # --- children and fan-out -----------------------------------------------------------
    def start_child(
        self, workflow: str, input: Any, idempotency_key: str | None, detached: bool = False
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
            raise ChildWorkflowFailed(run_id, error.get("status", "failed"), error)
        raise Suspend(f"waiting for child run {run_id} ({workflow})")

    def parallel(self, calls: list["StepCall"], concurrency: int | None, name: str) -> list[Any]:
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
        if entry.status == EntryStatus.COMPLETED:
            return list(entry.output)
        if entry.status == EntryStatus.FAILED:
            error = entry.error or {}
            raise StepFailed(
                error.get("step", name), error.get("cause", error), int(error.get("attempts", 1))
            )
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
        return due and entry.kind in (EntryKind.SLEEP, EntryKind.WAIT)

    def choose_settled(self, seqs: list[int], name: str) -> int | None:
        """The first settled of these waits (journaled), or None if none is, without a record."""
        upcoming = self.journal.get(self.seq)
        recorded = upcoming is not None and upcoming.kind == EntryKind.VALUE
        if not recorded and not any(self.pending_settled(seq) for seq in seqs):
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
        return entry

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


def current_reporter() -> "Reporter | None":
    return _current.get() or _reporter.get()


def run_step_attempt(
    step: "StepDefinition",
    args: list[Any],
    kwargs: dict[str, Any],
    info: StepInfo,
    reporter: "Reporter | None" = None,
) -> Any:
    """Run one attempt of a step's function, outside any workflow context, within its timeout."""

    function = _step_overrides.get().get(step.key, step.fn)
    reporting = reporter or _current.get()

    def call() -> Any:
        _current.set(None)  # a step calling a step makes a plain call
        _step.set(info)
        _reporter.set(reporting)
        return function(*args, **kwargs)

    if step.timeout is None:
        return contextvars.copy_context().run(call)
    outcome: dict[str, Any] = {}

    def in_thread() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the waiting thread
            outcome["error"] = exc

    # Python cannot stop a thread: on timeout the attempt counts as failed and its thread is
    # abandoned; steps with timeouts must be idempotent, as every step should be.
    worker = threading.Thread(
        target=contextvars.copy_context().run,
        args=(in_thread,),
        daemon=True,
        name=f"step-{info.name}",
    )
    worker.start()
    worker.join(step.timeout)
    if worker.is_alive():
        raise StepTimeout(f"step {info.name!r} did not finish within {step.timeout:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _cache_key(step: "StepDefinition", args: list[Any], kwargs: dict[str, Any]) -> str:
    import hashlib
    import json

    payload = json.dumps([step.key, to_json_value(args), to_json_value(kwargs)], sort_keys=True)
    return "stepwise:step:" + hashlib.sha256(payload.encode()).hexdigest()


def enter(context: ExecutionContext) -> contextvars.Token["ExecutionContext | None"]:
    return _current.set(context)


def leave(token: contextvars.Token["ExecutionContext | None"]) -> None:
    _current.reset(token)
