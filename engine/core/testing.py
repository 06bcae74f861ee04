"""A harness for testing workflows: fake steps, skip time, inject events — no database.

    tester = WorkflowTester()
    tester.fake(charge_payment, raises=RuntimeError("card declined"))
    tester.send_event("Approval.decided", {"order_id": 7}, after=timedelta(hours=2))
    result = tester.run(process_payment, {"order_id": 7})
    assert result.status == "failed"
    assert tester.calls(release_inventory) == 1

The harness runs the same replay machine as the engine against an in-memory journal. Time
moves only when every run waits: the clock jumps to the next sleep, retry, deadline or event.
"""

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.context import StepInfo, _step_overrides, current_step, run_step_attempt
from engine.core.definitions import (
    StepDefinition,
    WorkflowDefinition,
    _steps,
    get_step,
    get_workflow,
)
from engine.core.errors import Cancelled, DefinitionError, describe_exception
from engine.core.executor import execute
from engine.core.expressions import event_passes_filter
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
from engine.core.redo import JournalRow, plan_retry
from engine.core.tester_tasks import TaskDesk, TestTask
from engine.core.triggers import _emit_event
from engine.core.values import to_json_value

TERMINAL = {"completed", "failed", "cancelled", "timed_out"}

EMIT_STEP = _emit_event
"""The step behind emit(): `tester.fake(EMIT_STEP, ...)`, `tester.calls(EMIT_STEP)`."""


@dataclass
class _Event:
    id: str
    type: str
    payload: dict[str, Any]
    at: datetime
    delivered: bool = False


@dataclass
class _Run:
    id: int
    workflow: WorkflowDefinition
    input: Any
    created_at: datetime
    parent: int | None = None
    status: str = "pending"
    output: Any = None
    error: dict[str, Any] | None = None
    journal: dict[int, Entry] = field(default_factory=dict)
    waits: dict[int, WaitSpec] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    deadline: datetime | None = None
    progress: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[tuple[str, float]] = field(default_factory=list)
    advances: int = 0
    cancel_request: CancelRequest | None = None
    stopped_at: int | None = None
    generations: dict[Position, int] = field(default_factory=dict)
    history: list[tuple[str, str, int]] = field(default_factory=list)
    task_waits: dict[int, tuple[int, bool]] = field(default_factory=dict)
    """seq → (task id, whether its deadline closes the task)."""


@dataclass(frozen=True)
class TestRun:
    """What a tested run did: its end, its journal and what it reported."""

    __test__ = False  # not a pytest test class

    id: int
    status: str
    output: Any
    error: dict[str, Any] | None
    steps: list[tuple[str, str, int]]
    """(name, status, attempt) of every journaled step, in order."""
    elapsed: timedelta
    progress: list[dict[str, Any]]
    metrics: list[tuple[str, float]]
    advances: int
    """How many times the run was (re)played: 1 + one per wait it resumed from."""
    history: list[tuple[str, str, int]] = field(default_factory=list)
    """(name, status, attempt) of every step as it was journaled, those a retry set aside
    included, in the order they ran."""

    def step_names(self) -> list[str]:
        return [name for name, _, _ in self.steps]


class WorkflowTester:
    """Runs workflows in memory with a virtual clock; see the module docstring."""

    __test__ = False

    def __init__(self, start: datetime | None = None) -> None:
        self.started = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.clock = self.started
        self._runs: dict[int, _Run] = {}
        self._ids = itertools.count(1)
        self._events: list[_Event] = []
        self._fakes: dict[str, Callable[..., Any]] = {}
        self._calls: dict[str, list[tuple[list[Any], dict[str, Any]]]] = {}
        self._cache: dict[str, Any] = {}
        self._workflow_cache: dict[str, tuple[Any, datetime]] = {}
        self._interrupt_after: set[str] = set()
        self.emitted: list[dict[str, Any]] = []
        """Every event the runs emitted, as {"id", "type", "payload"}, in order."""
        self._fakes[_emit_event.key] = self._emit
        self.desk = TaskDesk(lambda: self.clock, self._task_settled)
        self._fakes.update(self.desk.fakes())

    # --- setting the scene ------------------------------------------------------------
    def fake(
        self,
        step: StepDefinition,
        function: Callable[..., Any] | None = None,
        *,
        returns: Any = None,
        raises: BaseException | list[Any] | None = None,
    ) -> None:
        """Replace a step: by a function, a fixed return value, an exception, or a sequence
        of outcomes (exceptions are raised, other values returned) for successive attempts."""
        if function is None:
            outcomes = list(raises) if isinstance(raises, list) else None

            def function(*args: Any, **kwargs: Any) -> Any:
                if outcomes is not None:
                    outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
                    if isinstance(outcome, BaseException):
                        raise outcome
                    return outcome
                if isinstance(raises, BaseException):
                    raise raises
                return returns

        self._fakes[step.key] = function

    def send_event(
        self,
        event_type: str,
        payload: dict[str, Any] | None = None,
        *,
        after: timedelta = timedelta(0),
        event_id: str | None = None,
    ) -> None:
        """Deliver an event `after` this long from now on the virtual clock."""
        self._events.append(
            _Event(event_id or str(uuid.uuid4()), event_type, payload or {}, self.clock + after)
        )

    def _emit(self, event_type: str, payload: dict[str, Any], event_id: str | None) -> Any:
        # As in the engine: the step's idempotency key is the default id, and the event
        # reaches runs of this tester that wait for it (subscribed workflows are not started).
        info = current_step()
        event_id = event_id or (info.idempotency_key if info else str(uuid.uuid4()))
        if not any(event.id == event_id for event in self._events):
            self._events.append(_Event(event_id, event_type, payload, self.clock))
        emitted = {"id": event_id, "type": event_type, "payload": payload}
        self.emitted.append(emitted)
        return emitted

    @property
    def tasks(self) -> list[TestTask]:
        """The tasks the runs opened with approval() and review(), in order."""
        return list(self.desk.tasks)

    def decide(
        self,
        name: str,
        decision: str,
        *,
        by: str = "approver",
        comment: str = "",
        after: timedelta = timedelta(0),
        run_id: int | None = None,
        form: dict[str, Any] | None = None,
    ) -> None:
        """Decide the task an approval() or review() named `name` opened (in `run_id`, or the
        first run that opens one), `after` this long on the virtual clock, with `form` values
        when it asks for some. Each person decides once; the task settles by the inbox's
        rules."""
        self.desk.plan(
            name, decision, by=by, comment=comment, after=after, run_id=run_id, form=form
        )

    def _task_settled(self, task: TestTask) -> None:
        run = self._runs[task.run_id]
        for seq, (task_id, _) in list(run.task_waits.items()):
            entry = run.journal.get(seq)
            if task_id == task.id and entry is not None and entry.status == EntryStatus.WAITING:
                run.journal[seq] = _replace(entry, EntryStatus.COMPLETED, output=task.outcome())
                del run.task_waits[seq]
                if run.status == "waiting":
                    run.status = "pending"

    def interrupt_after(self, step_name: str) -> None:
        """Simulate a crash right after the step is journaled: the run is replayed from the
        journal, as after a worker dies, and the step must not run again."""
        self._interrupt_after.add(step_name)

    def calls(self, step: StepDefinition) -> int:
        """How many attempts of the step actually ran (replays do not count)."""
        return len(self._calls.get(step.key, []))

    def call_args(self, step: StepDefinition) -> list[tuple[list[Any], dict[str, Any]]]:
        return list(self._calls.get(step.key, []))

    # --- running ----------------------------------------------------------------------
    def run(
        self, workflow: WorkflowDefinition | str, input: Any = None, *, max_advances: int = 10_000
    ) -> TestRun:
        """Run to the end, or until the run waits for something that will never come."""
        definition = _definition(workflow)
        root = self._start(definition, to_json_value(input), parent=None)
        self.resume(max_advances=max_advances)
        return self.result(root.id)

    def resume(self, *, max_advances: int = 10_000) -> None:
        """Carry every run on after sending events to runs left waiting."""
        for _ in range(max_advances):
            self._deliver_due_events()
            self.desk.decide_due()
            runnable = [run for run in self._runs.values() if run.status == "pending"]
            if runnable:
                for run in runnable:
                    self._advance(run)
                continue
            moment = self._next_moment()
            if moment is None:
                return
            self.clock = max(self.clock, moment)
            self._wake_due()
        raise RuntimeError(f"the runs did not settle within {max_advances} advances")

    def result(self, run_id: int) -> TestRun:
        run = self._runs[run_id]
        return TestRun(
            id=run.id,
            status=run.status,
            output=run.output,
            error=run.error,
            steps=[
                (entry.name, entry.status.value, entry.attempt)
                for _, entry in sorted(run.journal.items())
                if entry.kind in (EntryKind.STEP, EntryKind.PARALLEL)
            ],
            elapsed=self.clock - self.started,
            progress=list(run.progress),
            metrics=list(run.metrics),
            advances=run.advances,
            history=list(run.history),
        )

    # --- operators ------------------------------------------------------------------------
    def cancel(
        self,
        run_id: int,
        reason: str = "cancelled",
        *,
        status: str = "cancelled",
        compensate: bool | None = None,
    ) -> None:
        """Cancel a run as the engine does: it first undoes what it did (unless its workflow
        opted out, or compensate=False), at its next advance; `resume()` carries it to its end.
        compensate=False on a cancelling run stops its undoing at once."""
        run = self._runs[run_id]
        if run.status in TERMINAL:
            raise ValueError(f"run {run_id} already ended {run.status}")
        if run.cancel_request is not None:
            if compensate is not False:
                raise ValueError(f"run {run_id} is already cancelling")
            self._end_now(run, run.cancel_request.reason, run.cancel_request.status)
            return
        if compensate is None:
            compensate = bool(run.journal) and run.workflow.compensate_on_cancel
        if not compensate:
            self._end_now(run, reason, status)
        else:
            run.cancel_request = CancelRequest(reason, status)
            run.status = "pending"

    def _end_now(self, run: _Run, reason: str, status: str) -> None:
        kind = "RunTimeout" if status == "timed_out" else "Cancelled"
        self._finish(run, status, error={"type": kind, "message": reason})

    def retry(self, run_id: int) -> None:
        """Retry a failed, cancelled or timed-out run by the engine's rule (engine.core.redo);
        `resume()` carries it on."""
        run = self._runs[run_id]
        if run.status not in ("failed", "cancelled", "timed_out"):
            raise ValueError(f"run {run_id} is {run.status}; only ended, unfinished runs retry")
        rows = [
            JournalRow(seq, 0, entry.kind, entry.status, entry.undoes, _child_id(entry))
            for seq, entry in run.journal.items()
        ]
        # The harness keeps a parallel group as one entry; the rule wants its steps.
        rows += [
            JournalRow(seq, index + 1, EntryKind.STEP, EntryStatus.COMPLETED)
            for seq, entry in run.journal.items()
            if entry.kind == EntryKind.PARALLEL and entry.status == EntryStatus.COMPLETED
            for index in range(len(entry.output or []))
        ]
        plan = plan_retry(rows, run.stopped_at)
        for position in plan.redo:
            run.generations[position] = run.generations.get(position, 0) + 1
        for position in plan.set_aside:
            run.journal.pop(position.seq, None)
            run.waits.pop(position.seq, None)
        for child_id in plan.children:
            if self._runs[child_id].status in ("failed", "cancelled", "timed_out"):
                self.retry(child_id)
        run.status, run.output, run.error = "pending", None, None
        run.cancel_request, run.stopped_at = None, None
        if run.workflow.timeout:
            run.deadline = self.clock + timedelta(seconds=run.workflow.timeout)

    def children(self, run_id: int) -> list[TestRun]:
        return [self.result(run.id) for run in self._runs.values() if run.parent == run_id]

    # --- the machinery ----------------------------------------------------------------
    def _start(self, definition: WorkflowDefinition, input: Any, parent: int | None) -> _Run:
        run = _Run(next(self._ids), definition, input, self.clock, parent=parent)
        if definition.timeout:
            run.deadline = self.clock + timedelta(seconds=definition.timeout)
        self._runs[run.id] = run
        cached = self._workflow_cache.get(_workflow_cache_key(definition, input))
        if definition.cache_ttl and cached is not None and cached[1] > self.clock:
            run.status, run.output = "completed", cached[0]  # served from the run cache
        return run

    def _advance(self, run: _Run) -> None:
        run.status = "running"
        run.advances += 1
        backend = _MemoryBackend(self, run)
        overrides = {key: self._recording(key, fn) for key, fn in self._fakes.items()}
        for key in _all_step_keys():
            overrides.setdefault(key, self._recording(key, None))
        token = _step_overrides.set(overrides)
        try:
            outcome = execute(run.workflow, run.input, backend, dict(run.journal))
        except Cancelled:
            run.status = "pending"  # the simulated crash: replay from the journal
            return
        finally:
            _step_overrides.reset(token)
        backend.flush(outcome.reports or Reports())
        if outcome.status == "suspended":
            run.status = "waiting"
            return
        run.stopped_at = outcome.stopped_at
        self._finish(run, outcome.status, output=outcome.output, error=outcome.error)

    def _recording(self, key: str, fake: Callable[..., Any] | None) -> Callable[..., Any]:
        step = get_step(key)
        target = fake or (step.fn if step else None)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.setdefault(key, []).append((list(args), dict(kwargs)))
            assert target is not None
            return target(*args, **kwargs)

        return call

    def _finish(
        self, run: _Run, status: str, *, output: Any = None, error: dict[str, Any] | None = None
    ) -> None:
        run.status, run.output, run.error = status, output, error
        if status == "completed" and run.workflow.cache_ttl:
            expires = self.clock + timedelta(seconds=run.workflow.cache_ttl)
            self._workflow_cache[_workflow_cache_key(run.workflow, run.input)] = (output, expires)
        for child in list(self._runs.values()):
            if child.parent == run.id and child.status not in TERMINAL:
                self.cancel(child.id, f"parent run {run.id} ended {status}")
        if run.parent is not None:
            parent = self._runs[run.parent]
            for seq, entry in parent.journal.items():
                if (
                    entry.kind == EntryKind.CHILD_RESULT
                    and entry.status == EntryStatus.WAITING
                    and entry.output == {"run_id": run.id}
                ):
                    parent.journal[seq] = _child_entry(entry, run)
                    if parent.status == "waiting":
                        parent.status = "pending"

    def _next_moment(self) -> datetime | None:
        moments: list[datetime] = []
        for run in self._runs.values():
            if run.status != "waiting":
                continue
            if run.deadline:
                moments.append(run.deadline)
            for entry in run.journal.values():
                if entry.status == EntryStatus.WAITING and entry.wake_at:
                    moments.append(entry.wake_at)
                if entry.status == EntryStatus.RETRYING and entry.retry_at:
                    moments.append(entry.retry_at)
        moments.extend(event.at for event in self._events if not event.delivered)
        planned = self.desk.next_moment()
        if planned is not None:
            moments.append(planned)
        waiting = any(run.status == "waiting" for run in self._runs.values())
        return min(moments) if moments and waiting else None

    def _wake_due(self) -> None:
        for run in self._runs.values():
            if run.status != "waiting":
                continue
            if run.deadline and self.clock >= run.deadline and run.cancel_request is None:
                self.cancel(run.id, "the run passed its timeout", status="timed_out")
                continue
            for seq, entry in list(run.journal.items()):
                due = (
                    entry.wake_at
                    if entry.status == EntryStatus.WAITING
                    else (entry.retry_at if entry.status == EntryStatus.RETRYING else None)
                )
                if due is not None and self.clock >= due:
                    if entry.kind == EntryKind.SLEEP:
                        run.journal[seq] = _replace(entry, EntryStatus.COMPLETED)
                    run.status = "pending"

    def _deliver_due_events(self) -> None:
        for event in self._events:
            if event.delivered or event.at > self.clock:
                continue
            event.delivered = True
            for run in self._runs.values():
                for seq, spec in list(run.waits.items()):
                    if _event_matches(spec, event, run.input):
                        del run.waits[seq]
                        run.consumed.add(event.id)
                        run.journal[seq] = _replace(
                            run.journal[seq], EntryStatus.COMPLETED, output=_event_output(event)
                        )
                        if run.status == "waiting":
                            run.status = "pending"
                        break

    def _buffered(self, run: _Run, spec: WaitSpec) -> _Event | None:
        for event in self._events:
            if (
                event.delivered
                and event.at >= run.created_at
                and event.id not in run.consumed
                and _event_matches(spec, event, run.input)
            ):
                run.consumed.add(event.id)
                return event
        return None


class _MemoryBackend:
    pause_requested = False

    def __init__(self, tester: WorkflowTester, run: _Run) -> None:
        self.tester = tester
        self.run = run
        self.run_id = run.id
        self.cancel_request = run.cancel_request

    def now(self) -> datetime:
        return self.tester.clock

    def generation(self, position: Position) -> int:
        return self.run.generations.get(position, 0)

    def record_cancel(self, seq: int, request: CancelRequest, reports: Reports) -> None:
        kind = "RunTimeout" if request.status == "timed_out" else "Cancelled"
        self._put(
            Entry(
                seq,
                EntryKind.CANCEL,
                "cancel",
                EntryStatus.CANCELLED,
                error={"type": kind, "message": request.reason},
            ),
            reports,
        )

    def await_task(
        self,
        seq: int,
        name: str,
        task_id: int,
        deadline: datetime | None,
        closes: bool,
        reports: Reports,
    ) -> Entry:
        task = self.tester.desk.get(task_id)
        entry = Entry(seq, EntryKind.TASK, name, EntryStatus.WAITING, wake_at=deadline)
        if task.status != "open":
            entry = _replace(
                entry,
                EntryStatus.COMPLETED
                if task.outcome()["outcome"] != "timeout"
                else EntryStatus.FAILED,
                output=task.outcome(),
            )
        else:
            self.run.task_waits[seq] = (task_id, closes)
        self._put(entry, reports)
        return entry

    def expire_task(self, seq: int) -> Entry:
        entry = self.run.journal[seq]
        task_id, closes = self.run.task_waits.pop(seq, (0, False))
        task = self.tester.desk.get(task_id)
        if task.status == "open" and closes:
            task.status = "timed_out"
        settled = task.outcome()
        status = EntryStatus.COMPLETED if settled["outcome"] != "timeout" else EntryStatus.FAILED
        entry = _replace(entry, status, output=settled)
        self.run.journal[seq] = entry
        return entry

    def cancel_entry(self, seq: int) -> Entry:
        request = self.cancel_request
        assert request is not None
        self.run.waits.pop(seq, None)
        kind = "RunTimeout" if request.status == "timed_out" else "Cancelled"
        entry = _replace(
            self.run.journal[seq],
            EntryStatus.CANCELLED,
            error={"type": kind, "message": request.reason},
        )
        self.run.journal[seq] = entry
        return entry

    def _put(self, entry: Entry, reports: Reports) -> None:
        self.run.journal[entry.seq] = entry
        if entry.kind in (EntryKind.STEP, EntryKind.PARALLEL):
            self.run.history.append((entry.name, entry.status.value, entry.attempt))
        self.flush(reports)
        if (
            entry.kind == EntryKind.STEP
            and entry.name in self.tester._interrupt_after
            and entry.status == EntryStatus.COMPLETED
        ):
            self.tester._interrupt_after.discard(entry.name)
            raise Cancelled()

    def flush(self, reports: Reports) -> None:
        if reports.progress is not None:
            self.run.progress.append(reports.progress)
        self.run.metrics.extend((name, value) for name, value, _ in reports.metrics)

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
        reports: Reports,
    ) -> None:
        self._put(
            Entry(
                seq, EntryKind.STEP, name, status, attempt, output, error, retry_at, undoes=undoes
            ),
            reports,
        )

    def record_value(self, seq: int, name: str, value: Any, reports: Reports) -> None:
        self._put(Entry(seq, EntryKind.VALUE, name, EntryStatus.COMPLETED, output=value), reports)

    def begin_sleep(self, seq: int, name: str, until: datetime, reports: Reports) -> None:
        self._put(Entry(seq, EntryKind.SLEEP, name, EntryStatus.WAITING, wake_at=until), reports)

    def begin_wait(self, seq: int, name: str, spec: WaitSpec, reports: Reports) -> Entry:
        event = self.tester._buffered(self.run, spec)
        if event is not None:
            entry = Entry(
                seq, EntryKind.WAIT, name, EntryStatus.COMPLETED, output=_event_output(event)
            )
        else:
            entry = Entry(seq, EntryKind.WAIT, name, EntryStatus.WAITING, wake_at=spec.deadline)
            self.run.waits[seq] = spec
        self._put(entry, reports)
        return entry

    def expire_wait(self, seq: int) -> Entry:
        self.run.waits.pop(seq, None)
        entry = _replace(
            self.run.journal[seq],
            EntryStatus.FAILED,
            error={"type": "WaitTimeout", "message": "no matching event in time"},
        )
        self.run.journal[seq] = entry
        return entry

    def start_child(
        self,
        seq: int,
        name: str,
        workflow: str,
        input: Any,
        idempotency_key: str | None,
        detached: bool,
        reports: Reports,
    ) -> int:
        parent = None if detached else self.run.id
        child = self.tester._start(_definition(workflow), input, parent=parent)
        self._put(
            Entry(
                seq, EntryKind.CHILD_START, name, EntryStatus.COMPLETED, output={"run_id": child.id}
            ),
            reports,
        )
        return child.id

    def await_child(self, seq: int, name: str, child_run_id: int, reports: Reports) -> Entry:
        child = self.tester._runs[child_run_id]
        entry = Entry(
            seq, EntryKind.CHILD_RESULT, name, EntryStatus.WAITING, output={"run_id": child_run_id}
        )
        if child.status in TERMINAL:
            entry = _child_entry(entry, child)
        self._put(entry, reports)
        return entry

    def begin_parallel(
        self,
        seq: int,
        name: str,
        calls: list[StepCallSpec],
        concurrency: int | None,
        reports: Reports,
    ) -> Entry:
        # Branches run one after another here; retries do not move the clock.
        outputs: list[Any] = []
        entry: Entry | None = None
        for index, call in enumerate(calls):
            step = get_step(call.step_key)
            if step is None:
                raise DefinitionError(f"no step registered as {call.step_key}")
            attempt = 1
            generation = self.generation(Position(seq, index + 1))
            while True:
                info = StepInfo(self.run_id, seq, call.name, attempt, generation, index + 1)
                try:
                    outputs.append(
                        to_json_value(
                            run_step_attempt(step, list(call.args), dict(call.kwargs), info)
                        )
                    )
                    break
                except Exception as exc:
                    if step.retry.should_retry(exc, attempt):
                        attempt += 1
                        continue
                    entry = Entry(
                        seq,
                        EntryKind.PARALLEL,
                        name,
                        EntryStatus.FAILED,
                        error={
                            "type": "StepFailed",
                            "step": call.name,
                            "cause": describe_exception(exc),
                            "attempts": attempt,
                        },
                    )
                    break
            if entry is not None:
                break
        entry = entry or Entry(seq, EntryKind.PARALLEL, name, EntryStatus.COMPLETED, output=outputs)
        self._put(entry, reports)
        return entry

    def cache_get(self, key: str) -> tuple[bool, Any]:
        if key in self.tester._cache:
            return True, self.tester._cache[key]
        return False, None

    def cache_set(self, key: str, value: Any, ttl_seconds: float) -> None:
        self.tester._cache[key] = value


def _definition(workflow: WorkflowDefinition | str) -> WorkflowDefinition:
    if isinstance(workflow, WorkflowDefinition):
        return workflow
    found = get_workflow(workflow)
    if found is None:
        raise DefinitionError(f"no workflow registered as {workflow!r}")
    return found


def _workflow_cache_key(definition: WorkflowDefinition, input: Any) -> str:
    return json.dumps([definition.slug, input], sort_keys=True, default=str)


def _all_step_keys() -> list[str]:
    return list(_steps)


def _replace(
    entry: Entry, status: EntryStatus, *, output: Any = None, error: dict[str, Any] | None = None
) -> Entry:
    return Entry(
        entry.seq,
        entry.kind,
        entry.name,
        status,
        entry.attempt,
        output if output is not None else entry.output,
        error,
        entry.retry_at,
        entry.wake_at,
        entry.undoes,
    )


def _child_id(entry: Entry) -> int | None:
    if entry.kind != EntryKind.CHILD_RESULT or not isinstance(entry.output, dict):
        return None
    run_id = entry.output.get("run_id")
    return run_id if isinstance(run_id, int) else None


def _child_entry(entry: Entry, child: _Run) -> Entry:
    if child.status == "completed":
        return Entry(entry.seq, entry.kind, entry.name, EntryStatus.COMPLETED, output=child.output)
    return Entry(
        entry.seq,
        entry.kind,
        entry.name,
        EntryStatus.FAILED,
        output={"run_id": child.id},
        error={"status": child.status, **(child.error or {})},
    )


def _event_output(event: _Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "payload": event.payload,
        "received_at": event.at.isoformat(),
    }


def _event_matches(spec: WaitSpec, event: _Event, run_input: Any) -> bool:
    if event.type not in spec.event_types:
        return False
    if spec.match and not all(
        k in event.payload and event.payload[k] == v for k, v in spec.match.items()
    ):
        return False
    return event_passes_filter(spec.filter, event.payload, run_input, spec.scope)
