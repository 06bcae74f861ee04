"""Exceptions of the durable core.

Control flow (suspending, cancelling) derives from BaseException so that a workflow's own
`except Exception` cannot swallow it; failures a workflow may handle derive from Exception.
"""

import traceback
from pathlib import PurePath
from typing import Any


class WorkflowError(Exception):
    """Base of the failures a workflow can catch."""


class StepFailed(WorkflowError):
    """A step failed for good: its attempts ran out or its error is not retryable."""

    def __init__(self, step: str, error: dict[str, Any], attempts: int = 1) -> None:
        self.step = step
        self.error = error
        self.attempts = attempts
        super().__init__(
            f"step {step!r} failed after {attempts} attempt(s): "
            f"{error.get('type', 'Error')}: {error.get('message', '')}"
        )


class StepTimeout(WorkflowError):
    """One attempt of a step ran past its timeout."""

    error_kind = "timeout"


class WaitTimeout(WorkflowError):
    """A wait for an event ended at its deadline without a matching event."""

    def __init__(self, event_types: tuple[str, ...], timeout_seconds: float) -> None:
        self.event_types = event_types
        self.timeout_seconds = timeout_seconds
        super().__init__(f"no {' or '.join(event_types)} event within {timeout_seconds:g}s")


class ChildWorkflowFailed(WorkflowError):
    """A child workflow ended failed, cancelled or timed out."""

    def __init__(self, run_id: int, status: str, error: dict[str, Any] | None) -> None:
        self.run_id = run_id
        self.status = status
        self.error = error or {}
        detail = f": {self.error.get('message')}" if self.error.get("message") else ""
        super().__init__(f"child run {run_id} ended {status}{detail}")


class NonRetryableError(Exception):
    """Raise (or subclass) inside a step to fail it at once, whatever its retry policy."""


class RetryLater(Exception):
    """A dependency said when to try again: a retry waits at least `retry_after` seconds."""

    retry_after: float = 0.0
    defers = False
    """True when the step did not run at all (it waits for a slot): it is tried again whatever
    its retry policy, and the wait does not use up an attempt of the policy."""


class CircuitOpen(RetryLater):
    """A call went to a dependency whose circuit breaker is open: it failed fast, unsent."""

    error_kind = "circuit_open"

    def __init__(self, name: str, retry_after: float, state: str = "open") -> None:
        self.name = name
        self.retry_after = max(0.0, retry_after)
        self.state = state
        detail = (
            f"for another {self.retry_after:.3g}s"
            if state == "open"
            else "while its half-open probes run"
        )
        super().__init__(f"circuit breaker {name!r} is {state}: calls fail fast {detail}")


class RateLimited(RetryLater):
    """A rate limit has no slot for this key now; `retry_after` says when the next one is."""

    error_kind = "rate_limited"

    def __init__(self, name: str, key: str, retry_after: float, *, defers: bool) -> None:
        self.name = name
        self.key = key
        self.retry_after = max(0.0, retry_after)
        self.defers = defers
        for_key = f" for key {key!r}" if key else ""
        super().__init__(
            f"rate limit {name!r}{for_key} is used up: the next call may go in "
            f"{self.retry_after:.3g}s"
        )


class NonDeterminismError(BaseException):
    """Replay met a different operation than the journal recorded at the same position.

    A BaseException, so that a workflow's `except Exception` cannot hide it; the executor
    fails the run with it.
    """

    def __init__(self, seq: int, recorded: str, replayed: str) -> None:
        self.seq = seq
        self.recorded = recorded
        self.replayed = replayed
        super().__init__(
            f"non-deterministic replay at position {seq}: the journal recorded {recorded}, "
            f"the workflow now asks for {replayed}. Workflow code must take the same path "
            "when replayed: use now(), uuid4() and random() from engine.core, and put side "
            "effects in steps."
        )


class DefinitionError(ValueError):
    """A workflow or step was declared wrongly; raised at declaration time."""


class Suspend(BaseException):  # control flow, not an error
    """The run cannot go further now (it waits); the executor stops and keeps the journal."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Cancelled(BaseException):  # control flow, not an error
    """The run lost its lease or was paused while executing; stop without writing more."""


class RunCancelled(BaseException):  # control flow, not an error
    """The run was cancelled (or passed its run timeout) and must stop here.

    Raised inside the workflow where the cancellation reached it, so that `Saga` blocks and a
    graph's compensation nodes undo what was done, newest first, before the run ends. A
    BaseException: `except Exception` in workflow code cannot swallow it. `status` is how the
    run ends ("cancelled" or "timed_out"). `undo` False: the cancellation said not to undo
    (compensate=False, or a workflow that opted out), so nothing compensates on its way out.
    """

    def __init__(self, reason: str, status: str = "cancelled", *, undo: bool = True) -> None:
        self.reason = reason
        self.status = status
        self.undo = undo
        super().__init__(reason)


TRACEBACK_FRAMES = 20
TRACEBACK_CHARS = 4_000


def short_traceback(exc: BaseException) -> str:
    """Where an exception was raised, for people reading a failed step: file name, line and
    function of the innermost frames with their source line; no locals and no directories (a
    viewer reads it), at most TRACEBACK_CHARS."""
    frames = traceback.extract_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    lines = [
        f"{PurePath(frame.filename).name}:{frame.lineno} in {frame.name}"
        + (f"\n    {frame.line.strip()}" if frame.line else "")
        for frame in frames
    ]
    text = "\n".join(lines)
    return text[-TRACEBACK_CHARS:]


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """A JSON-safe description of an exception, for the journal."""
    kind = type(exc)
    described: dict[str, Any] = {
        "type": kind.__name__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}",
        "message": str(exc)[:2000],
    }
    if isinstance(exc, StepFailed):
        described["step"] = exc.step
        described["cause"] = exc.error
    if isinstance(exc, RetryLater):
        described["retry_after"] = round(exc.retry_after, 3)
    return described
