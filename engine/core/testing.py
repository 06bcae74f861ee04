"""A harness for testing workflows: fake steps, skip time, inject events — no database.

    tester = WorkflowTester()
    tester.fake(charge_payment, raises=RuntimeError("card declined"))
    tester.send_event("Approval.decided", {"order_id": 7}, after=timedelta(hours=2))
    result = tester.run(process_payment, {"order_id": 7})
    assert result.status == "failed"
    assert tester.calls(release_inventory) == 1

The harness runs the same replay machine as the engine against an in-memory journal. Time
moves only when every run waits: the clock jumps to the next sleep, retry, deadline or event.

State machines have their own harness, MachineTester (engine.core.machine_testing), exported
here too: `from engine.core.testing import MachineTester, WorkflowTester`.
"""

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.context import _step_overrides, current_step
from engine.core.definitions import (
    StepDefinition,
    WorkflowDefinition,
    _steps,
    get_step,
)
from engine.core.errors import Cancelled
from engine.core.executor import execute
from engine.core.journal import (
    CancelRequest,
    Entry,
    EntryKind,
    EntryStatus,
    Reports,
)
from engine.core.machine_testing import MachineTester, TestEvent, TestInstance, TestTimer
from engine.core.redo import JournalRow, plan_retry
from engine.core.tester_backend import (
    TERMINAL,
    Harness,
    MemoryBackend,
    MemoryEvent,
    MemoryRun,
    child_entry,
    definition_of,
    event_matches,
    event_output,
    with_status,
)
from engine.core.tester_tasks import TaskDesk, TestTask
from engine.core.triggers import _emit_event
from engine.core.values import JSON, to_json_value

__all__ = [
    "EMIT_STEP",
    "MachineTester",
    "TestEvent",
    "TestInstance",
    "TestRun",
    "TestTask",
    "TestTimer",
    "WorkflowTester",
]

EMIT_STEP = _emit_event
"""The step behind emit(): `tester.fake(EMIT_STEP, ...)`, `tester.calls(EMIT_STEP)`."""


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
    logs: list[tuple[str, str]] = field(default_factory=list)
    """(level, message) of every log() line kept, in journal order."""

    def step_names(self) -> list[str]:
        return [name for name, _, _ in self.steps]


class WorkflowTester:
    """Runs workflows in memory with a virtual clock; see the module docstring."""

    __test__ = False

    def __init__(self, start: datetime | None = None) -> None:
        self.started = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.clock = self.started
        self._ids = itertools.count(1)
        self._fakes: dict[str, Callable[..., Any]] = {}
        self._calls: dict[str, list[tuple[list[Any], dict[str, Any]]]] = {}
        self._workflow_cache: dict[str, tuple[Any, datetime]] = {}
        self.emitted: list[dict[str, Any]] = []
        """Every event the runs emitted, as {"id", "type", "payload"}, in order."""
        self._fakes[_emit_event.key] = self._emit
        self.desk = TaskDesk(lambda: self.clock, self._task_settled)
        self._harness = Harness(lambda: self.clock, self.desk, self._start)
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
        self._harness.events.append(
            MemoryEvent(
                event_id or str(uuid.uuid4()), event_type, payload or {}, self.clock + after
            )
        )

    def _emit(self, event_type: str, payload: dict[str, Any], event_id: str | None) -> Any:
        # As in the engine: the step's idempotency key is the default id, and the event
        # reaches runs of this tester that wait for it (subscribed workflows are not started).
        info = current_step()
        event_id = event_id or (info.idempotency_key if info else str(uuid.uuid4()))
        if not any(event.id == event_id for event in self._harness.events):
            self._harness.events.append(MemoryEvent(event_id, event_type, payload, self.clock))
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
        run = self._harness.runs[task.run_id]
        for seq, (task_id, _) in list(run.task_waits.items()):
            entry = run.journal.get(seq)
            if task_id == task.id and entry is not None and entry.status == EntryStatus.WAITING:
                run.journal[seq] = with_status(entry, EntryStatus.COMPLETED, output=task.outcome())
                del run.task_waits[seq]
                if run.status == "waiting":
                    run.status = "pending"

    def interrupt_after(self, step_name: str) -> None:
        """Simulate a crash right after the step is journaled: the run is replayed from the
        journal, as after a worker dies, and the step must not run again."""
        self._harness.crash_after.add(step_name)

    def calls(self, step: StepDefinition) -> int:
        """How many attempts of the step actually ran (replays do not count)."""
        return len(self._calls.get(step.key, []))

    def call_args(self, step: StepDefinition) -> list[tuple[list[Any], dict[str, Any]]]:
        return list(self._calls.get(step.key, []))

    # --- running ----------------------------------------------------------------------
    def run(
        self, workflow: WorkflowDefinition | str, input: JSON = None, *, max_advances: int = 10_000
    ) -> TestRun:
        """Run to the end, or until the run waits for something that will never come."""
        definition = definition_of(workflow)
        root = self._start(definition, to_json_value(input), parent=None)
        self.resume(max_advances=max_advances)
        return self.result(root.id)

    def resume(self, *, max_advances: int = 10_000) -> None:
        """Carry every run on after sending events to runs left waiting."""
        for _ in range(max_advances):
            self._deliver_due_events()
            self.desk.decide_due()
            runnable = [run for run in self._harness.runs.values() if run.status == "pending"]
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
        run = self._harness.runs[run_id]
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
            logs=_logs_of(run),
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
        run = self._harness.runs[run_id]
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

    def _end_now(self, run: MemoryRun, reason: str, status: str) -> None:
        kind = "RunTimeout" if status == "timed_out" else "Cancelled"
        self._finish(run, status, error={"type": kind, "message": reason})

    def retry(self, run_id: int) -> None:
        """Retry a failed, cancelled or timed-out run by the engine's rule (engine.core.redo);
        `resume()` carries it on."""
        run = self._harness.runs[run_id]
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
            if self._harness.runs[child_id].status in ("failed", "cancelled", "timed_out"):
                self.retry(child_id)
        run.status, run.output, run.error = "pending", None, None
        run.cancel_request, run.stopped_at = None, None
        if run.workflow.timeout:
            run.deadline = self.clock + timedelta(seconds=run.workflow.timeout)

    def children(self, run_id: int) -> list[TestRun]:
        return [self.result(run.id) for run in self._harness.runs.values() if run.parent == run_id]

    # --- the machinery ----------------------------------------------------------------
    def _start(self, definition: WorkflowDefinition, input: Any, parent: int | None) -> MemoryRun:
        run = MemoryRun(next(self._ids), definition, input, self.clock, parent=parent)
        if definition.timeout:
            run.deadline = self.clock + timedelta(seconds=definition.timeout)
        self._harness.runs[run.id] = run
        cached = self._workflow_cache.get(_workflow_cache_key(definition, input))
        if definition.cache_ttl and cached is not None and cached[1] > self.clock:
            run.status, run.output = "completed", cached[0]  # served from the run cache
        return run

    def _advance(self, run: MemoryRun) -> None:
        run.status = "running"
        run.advances += 1
        backend = MemoryBackend(self._harness, run)
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
        self,
        run: MemoryRun,
        status: str,
        *,
        output: Any = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        run.status, run.output, run.error = status, output, error
        if status == "completed" and run.workflow.cache_ttl:
            expires = self.clock + timedelta(seconds=run.workflow.cache_ttl)
            self._workflow_cache[_workflow_cache_key(run.workflow, run.input)] = (output, expires)
        for child in list(self._harness.runs.values()):
            if child.parent == run.id and child.status not in TERMINAL:
                self.cancel(child.id, f"parent run {run.id} ended {status}")
        if run.parent is not None:
            parent = self._harness.runs[run.parent]
            for seq, entry in parent.journal.items():
                if (
                    entry.kind == EntryKind.CHILD_RESULT
                    and entry.status == EntryStatus.WAITING
                    and entry.output == {"run_id": run.id}
                ):
                    parent.journal[seq] = child_entry(entry, run)
                    if parent.status == "waiting":
                        parent.status = "pending"

    def _next_moment(self) -> datetime | None:
        moments: list[datetime] = []
        for run in self._harness.runs.values():
            if run.status != "waiting":
                continue
            if run.deadline:
                moments.append(run.deadline)
            for entry in run.journal.values():
                if entry.status == EntryStatus.WAITING and entry.wake_at:
                    moments.append(entry.wake_at)
                if entry.status == EntryStatus.RETRYING and entry.retry_at:
                    moments.append(entry.retry_at)
        moments.extend(event.at for event in self._harness.events if not event.delivered)
        planned = self.desk.next_moment()
        if planned is not None:
            moments.append(planned)
        waiting = any(run.status == "waiting" for run in self._harness.runs.values())
        return min(moments) if moments and waiting else None

    def _wake_due(self) -> None:
        for run in self._harness.runs.values():
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
                        run.journal[seq] = with_status(entry, EntryStatus.COMPLETED)
                    run.status = "pending"

    def _deliver_due_events(self) -> None:
        for event in self._harness.events:
            if event.delivered or event.at > self.clock:
                continue
            event.delivered = True
            for run in self._harness.runs.values():
                for seq, spec in list(run.waits.items()):
                    if event_matches(spec, event, run.input):
                        del run.waits[seq]
                        run.consumed.add(event.id)
                        run.journal[seq] = with_status(
                            run.journal[seq], EntryStatus.COMPLETED, output=event_output(event)
                        )
                        if run.status == "waiting":
                            run.status = "pending"
                        break


def _workflow_cache_key(definition: WorkflowDefinition, input: Any) -> str:
    return json.dumps([definition.slug, input], sort_keys=True, default=str)


def _all_step_keys() -> list[str]:
    return list(_steps)


def _child_id(entry: Entry) -> int | None:
    if entry.kind != EntryKind.CHILD_RESULT or not isinstance(entry.output, dict):
        return None
    run_id = entry.output.get("run_id")
    return run_id if isinstance(run_id, int) else None


def _logs_of(run: MemoryRun) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for seq, entry in sorted(run.journal.items()):
        kept = run.logs.get(seq, [])
        if entry.kind == EntryKind.VALUE and entry.name == "log" and isinstance(entry.output, dict):
            kept = [entry.output]
        lines.extend((str(line["level"]), str(line["message"])) for line in kept)
    return lines
