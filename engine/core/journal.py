"""The journal a run replays from, and the storage protocol the executor writes it through."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from engine.core.values import JSON


class EntryKind(StrEnum):
    STEP = "step"
    SLEEP = "sleep"
    WAIT = "wait"
    CHILD_START = "child_start"
    CHILD_RESULT = "child_result"
    PARALLEL = "parallel"
    VALUE = "value"
    TASK = "task"
    """Waiting for a person's decision, settled from the task itself (never from an event)."""
    CANCEL = "cancel"
    """Where a cancellation reached the workflow: a replay raises it at the same place."""


class EntryStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    RETRYING = "retrying"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    """Stopped by a cancellation: the workflow meets RunCancelled here on every replay."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in a run's journal: `seq`, and `branch` n for the n-th step of a parallel group."""

    seq: int
    branch: int = 0

    def as_json(self) -> dict[str, int]:
        return {"seq": self.seq, "branch": self.branch}

    @classmethod
    def from_json(cls, value: Any) -> "Position | None":
        if not isinstance(value, dict) or not isinstance(value.get("seq"), int):
            return None
        branch = value.get("branch", 0)
        return cls(value["seq"], branch if isinstance(branch, int) else 0)


@dataclass(frozen=True)
class Entry:
    """One journaled operation at one position of a run (the latest attempt when retried)."""

    seq: int
    kind: EntryKind
    name: str
    status: EntryStatus
    attempt: int = 1
    output: Any = None
    error: dict[str, Any] | None = None
    retry_at: datetime | None = None
    wake_at: datetime | None = None
    """For sleeps: when the sleep ends. For waits: the deadline, if any."""
    undoes: Position | None = None
    """For a compensation: the step whose effect it undid."""


@dataclass(frozen=True)
class StepCallSpec:
    """A step to run elsewhere (a parallel branch): everything a worker needs, as JSON."""

    step_key: str
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class WaitSpec:
    event_types: tuple[str, ...]
    match: dict[str, Any] | None
    filter: str | None
    deadline: datetime | None
    # Names the filter may use besides `event` and `input`, fixed when the wait began.
    scope: dict[str, Any] | None = None


@dataclass
class Reports:
    """Progress and metrics reported since the last commit, written with the next one."""

    progress: dict[str, Any] | None = None
    metrics: list[tuple[str, float, datetime]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.progress is not None or bool(self.metrics)

    def report_progress(self, current: float, total: float | None, message: str | None) -> None:
        self.progress = {"current": current, "total": total, "message": message}

    def report_metric(self, name: str, value: float, at: datetime) -> None:
        self.metrics.append((name, float(value), at))


@dataclass(frozen=True)
class CancelRequest:
    """A cancellation the run must take in: undo what it did, then end with `status`."""

    reason: str
    status: str = "cancelled"
    """How the run ends: "cancelled", or "timed_out" when its run timeout passed."""
    undo: bool = True
    """False: stop at the next position without running any compensation (the step that was
    running when it came is recorded first)."""

    def as_error(self) -> dict[str, Any]:
        """The error journaled where the run met it, and kept on the run's row meanwhile."""
        kind = "RunTimeout" if self.status == "timed_out" else "Cancelled"
        error: dict[str, Any] = {"type": kind, "message": self.reason}
        if not self.undo:
            error["undo"] = False
        return error

    @classmethod
    def from_error(cls, error: Any) -> "CancelRequest":
        """The request an error written by as_error stands for."""
        error = error if isinstance(error, dict) else {}
        status = "timed_out" if error.get("type") == "RunTimeout" else "cancelled"
        return cls(str(error.get("message") or "cancelled"), status, error.get("undo") is not False)


class Backend(Protocol):
    """What executing a workflow needs from storage: the Django store and the test harness.

    Each method that records is one commit (a step's result may wait for the next one: see
    write_held), and fails with Cancelled when the run was
    cancelled or another advancer took it over meanwhile (the fence against duplicates).
    """

    run_id: int

    cancel_request: CancelRequest | None
    """Set when the run must stop and undo its work; a write may discover it mid-run."""

    pause_requested: bool
    """Set when the run was paused: it stops before its next new position."""

    def now(self) -> datetime: ...

    def generation(self, position: Position) -> int:
        """How many times the step at this position was undone and must be done anew."""
        ...

    def record_step(
        self,
        seq: int,
        name: str,
        attempt: int,
        started_at: datetime,
        *,
        status: EntryStatus,
        output: JSON = None,
        error: dict[str, Any] | None = None,
        retry_at: datetime | None = None,
        undoes: Position | None = None,
        logs: list[dict[str, Any]] | None = None,
        traceback: str | None = None,
        input: Any = None,
        reports: Reports,
    ) -> None:
        """Journal one attempt of a step; `logs` are the lines it wrote (engine.core.logs),
        `input` what it worked from, for people (engine.runtime.step_input)."""
        ...

    def write_held(self) -> None:
        """Write what record_step held back, if anything: called before the workflow takes
        its next position, so a step is durable before anything after it runs. A store may
        hold back a step's result to commit it with whatever comes next (the run's ending)."""
        ...

    def record_cancel(self, seq: int, request: CancelRequest, reports: Reports) -> None:
        """Journal, at a new position, that the cancellation reached the workflow here."""
        ...

    def cancel_entry(self, seq: int) -> Entry:
        """Close the unsettled entry at `seq` (a wait, sleep, retry, child or group) as
        cancelled; the workflow meets the cancellation there."""
        ...

    def record_value(self, seq: int, name: str, value: JSON, reports: Reports) -> None: ...

    def await_task(
        self,
        seq: int,
        name: str,
        task_id: int,
        deadline: datetime | None,
        closes: bool,
        reports: Reports,
    ) -> Entry:
        """Begin waiting for a task's decision (settled at once if it was decided already).

        At the deadline the wait ends as failed; `closes` also closes the task as timed out,
        in the same transaction that a decision would take: whichever comes first wins.
        """
        ...

    def expire_task(self, seq: int) -> Entry:
        """The task wait at `seq` reached its deadline: settle it from the task's state."""
        ...

    def begin_sleep(self, seq: int, name: str, until: datetime, reports: Reports) -> None: ...

    def begin_wait(self, seq: int, name: str, spec: WaitSpec, reports: Reports) -> Entry: ...

    def expire_wait(self, seq: int) -> Entry: ...

    def start_child(
        self,
        seq: int,
        name: str,
        workflow: str,
        input: JSON,
        idempotency_key: str | None,
        detached: bool,
        reports: Reports,
    ) -> int: ...

    def await_child(self, seq: int, name: str, child_run_id: int, reports: Reports) -> Entry: ...

    def begin_parallel(
        self,
        seq: int,
        name: str,
        calls: list[StepCallSpec],
        concurrency: int | None,
        reports: Reports,
    ) -> Entry: ...

    def flush(self, reports: Reports) -> None: ...

    def cache_get(self, key: str) -> tuple[bool, JSON]: ...

    def cache_set(self, key: str, value: JSON, ttl_seconds: float) -> None: ...
