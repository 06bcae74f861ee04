"""The WorkflowTester's in-memory world: its runs and events, and the Backend the replay
machine journals to (engine.core.journal.Backend), kept in dicts instead of tables."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.context import StepInfo, run_step_attempt
from engine.core.definitions import WorkflowDefinition, get_step, get_workflow
from engine.core.errors import Cancelled, DefinitionError, describe_exception
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
from engine.core.logs import LogBook
from engine.core.tester_tasks import TaskDesk
from engine.core.values import to_json_value

TERMINAL = {"completed", "failed", "cancelled", "timed_out"}


@dataclass
class MemoryEvent:
    """An event sent to the tester (or emitted by a run), due at `at` on the virtual clock."""

    id: str
    type: str
    payload: dict[str, Any]
    at: datetime
    delivered: bool = False


@dataclass
class MemoryRun:
    """A run of the tester: what the engine keeps in its Run row and journal tables."""

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
    logs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """seq → the lines its steps logged, every attempt's."""


@dataclass
class Harness:
    """What the tester's runs share and its backends work on; the tester owns the clock and
    starts runs."""

    now: Callable[[], datetime]
    desk: TaskDesk
    start: Callable[[WorkflowDefinition, Any, int | None], MemoryRun]
    runs: dict[int, MemoryRun] = field(default_factory=dict)
    events: list[MemoryEvent] = field(default_factory=list)
    step_cache: dict[str, Any] = field(default_factory=dict)
    crash_after: set[str] = field(default_factory=set)
    """Step names after whose journaling the run is replayed as after a crash."""

    def buffered(self, run: MemoryRun, spec: WaitSpec) -> MemoryEvent | None:
        """An event already delivered that this run has not consumed and its wait accepts."""
        for event in self.events:
            if (
                event.delivered
                and event.at >= run.created_at
                and event.id not in run.consumed
                and event_matches(spec, event, run.input)
            ):
                run.consumed.add(event.id)
                return event
        return None


class MemoryBackend:
    """The replay machine's Backend for one advance of one run, over the harness's dicts."""

    pause_requested = False

    def __init__(self, harness: Harness, run: MemoryRun) -> None:
        self.harness = harness
        self.run = run
        self.run_id = run.id
        self.cancel_request = run.cancel_request

    def now(self) -> datetime:
        return self.harness.now()

    def generation(self, position: Position) -> int:
        return self.run.generations.get(position, 0)

    def write_held(self) -> None:
        pass  # every record is kept at once

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
        task = self.harness.desk.get(task_id)
        entry = Entry(seq, EntryKind.TASK, name, EntryStatus.WAITING, wake_at=deadline)
        if task.status != "open":
            entry = with_status(
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
        task = self.harness.desk.get(task_id)
        if task.status == "open" and closes:
            task.status = "timed_out"
        settled = task.outcome()
        status = EntryStatus.COMPLETED if settled["outcome"] != "timeout" else EntryStatus.FAILED
        entry = with_status(entry, status, output=settled)
        self.run.journal[seq] = entry
        return entry

    def cancel_entry(self, seq: int) -> Entry:
        request = self.cancel_request
        assert request is not None
        self.run.waits.pop(seq, None)
        kind = "RunTimeout" if request.status == "timed_out" else "Cancelled"
        entry = with_status(
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
            and entry.name in self.harness.crash_after
            and entry.status == EntryStatus.COMPLETED
        ):
            self.harness.crash_after.discard(entry.name)
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
        logs: list[dict[str, Any]] | None = None,
        traceback: str | None = None,
        input: Any = None,
        reports: Reports,
    ) -> None:
        if logs:
            self.run.logs.setdefault(seq, []).extend(logs)
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
        event = self.harness.buffered(self.run, spec)
        if event is not None:
            entry = Entry(
                seq, EntryKind.WAIT, name, EntryStatus.COMPLETED, output=event_output(event)
            )
        else:
            entry = Entry(seq, EntryKind.WAIT, name, EntryStatus.WAITING, wake_at=spec.deadline)
            self.run.waits[seq] = spec
        self._put(entry, reports)
        return entry

    def expire_wait(self, seq: int) -> Entry:
        self.run.waits.pop(seq, None)
        entry = with_status(
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
        child = self.harness.start(definition_of(workflow), input, parent)
        self._put(
            Entry(
                seq, EntryKind.CHILD_START, name, EntryStatus.COMPLETED, output={"run_id": child.id}
            ),
            reports,
        )
        return child.id

    def await_child(self, seq: int, name: str, child_run_id: int, reports: Reports) -> Entry:
        child = self.harness.runs[child_run_id]
        entry = Entry(
            seq, EntryKind.CHILD_RESULT, name, EntryStatus.WAITING, output={"run_id": child_run_id}
        )
        if child.status in TERMINAL:
            entry = child_entry(entry, child)
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
                book = LogBook()
                try:
                    outputs.append(
                        to_json_value(
                            run_step_attempt(
                                step, list(call.args), dict(call.kwargs), info, logbook=book
                            )
                        )
                    )
                    self.run.logs.setdefault(seq, []).extend(book.recorded() or [])
                    break
                except Exception as exc:
                    self.run.logs.setdefault(seq, []).extend(book.recorded() or [])
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
        if key in self.harness.step_cache:
            return True, self.harness.step_cache[key]
        return False, None

    def cache_set(self, key: str, value: Any, ttl_seconds: float) -> None:
        self.harness.step_cache[key] = value


def definition_of(workflow: WorkflowDefinition | str) -> WorkflowDefinition:
    if isinstance(workflow, WorkflowDefinition):
        return workflow
    found = get_workflow(workflow)
    if found is None:
        raise DefinitionError(f"no workflow registered as {workflow!r}")
    return found


def with_status(
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


def child_entry(entry: Entry, child: MemoryRun) -> Entry:
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


def event_output(event: MemoryEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "payload": event.payload,
        "received_at": event.at.isoformat(),
    }


def event_matches(spec: WaitSpec, event: MemoryEvent, run_input: Any) -> bool:
    if event.type not in spec.event_types:
        return False
    if spec.match and not all(
        k in event.payload and event.payload[k] == v for k, v in spec.match.items()
    ):
        return False
    return event_passes_filter(spec.filter, event.payload, run_input, spec.scope)
