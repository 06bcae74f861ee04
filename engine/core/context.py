"""Where code runs: inside a workflow's replay (engine.core.replay) or inside one attempt of a
step, which this module runs: its info, its overrides in tests, where it reports, its timeout.

It knows a running workflow only as a RunningWorkflow and a step as an AttemptedStep: the
replay machine and the definitions build on this module, never the other way round."""

import contextvars
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from engine.core.deadline import call_with_deadline
from engine.core.errors import DefinitionError
from engine.core.logs import LogBook
from engine.core.resilience import BreakerSpec, RateLimitSpec, Scope
from engine.core.shapes import AttemptedStep
from engine.core.values import arguments_value

_step: contextvars.ContextVar["StepInfo | None"] = contextvars.ContextVar(
    "stepwise_step", default=None
)


class Reporter(Protocol):
    def report_progress(self, current: float, total: float | None, message: str | None) -> None: ...

    def report_metric(self, name: str, value: float) -> None: ...


class RunningWorkflow(Reporter, Protocol):
    """A workflow's replay as this module uses it (engine.core.replay.ExecutionContext; its
    readers get it whole from engine.core.running)."""

    def await_child(self, workflow: str, run_id: int) -> Any: ...


_current: contextvars.ContextVar[RunningWorkflow | None] = contextvars.ContextVar(
    "stepwise_execution", default=None
)


# While a step runs, progress() and metric() report to the run that called it.
_reporter: contextvars.ContextVar["Reporter | None"] = contextvars.ContextVar(
    "stepwise_reporter", default=None
)

# While a step runs, log() writes into its attempt's book, journaled with its result.
_logbook: contextvars.ContextVar["LogBook | None"] = contextvars.ContextVar(
    "stepwise_logbook", default=None
)

_step_overrides: contextvars.ContextVar[dict[str, Callable[..., Any]]] = contextvars.ContextVar(
    "stepwise_step_overrides",
    default={},  # noqa: B039 - never mutated, only replaced
)


def running_workflow() -> RunningWorkflow | None:
    return _current.get()


def current_step() -> "StepInfo | None":
    return _step.get()


def current_logbook() -> LogBook | None:
    return _logbook.get()


@dataclass(frozen=True)
class StepInfo:
    """What a running step knows about itself."""

    run_id: int
    seq: int
    name: str
    attempt: int
    generation: int = 0
    """How many times a compensation undid this step before: a re-done step is a new effect."""
    branch: int = 0
    """n for the n-th step of a parallel group, whose steps may share a name."""

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts, retries and replays of this step in this run; new only when
        a compensation undid the step and a retry does it again."""
        return idempotency_key(self.run_id, self.seq, self.name, self.generation, self.branch)


def idempotency_key(run_id: int, seq: int, name: str, generation: int = 0, branch: int = 0) -> str:
    position = f"{seq}.{branch}" if branch else str(seq)
    key = f"stepwise:{run_id}:{position}:{name}"
    return f"{key}:redo-{generation}" if generation else key


@dataclass(frozen=True)
class ChildRun:
    """A started child workflow; `result()` waits for it durably."""

    workflow: str
    run_id: int

    def result(self) -> Any:
        context = _require_context("ChildRun.result()")
        return context.await_child(self.workflow, self.run_id)


def _require_context(what: str) -> RunningWorkflow:
    context = _current.get()
    if context is None:
        raise DefinitionError(f"{what} works only inside a running workflow")
    return context


def current_reporter() -> Reporter | None:
    return _current.get() or _reporter.get()


StepGuard = Callable[
    [BreakerSpec | None, RateLimitSpec | None, Scope], AbstractContextManager[None]
]
"""Given an attempt's breaker, rate limit and scope: the context manager it runs inside."""

_guards: list[StepGuard] = []


def register_step_guard(guard: StepGuard) -> None:
    """Install what enforces circuit breakers and rate limits around step attempts
    (engine.resilience.guard, once per process)."""
    if guard not in _guards:
        _guards.append(guard)


def guard_attempt(
    breaker: BreakerSpec | None, rate_limit: RateLimitSpec | None, scope: Scope
) -> AbstractContextManager[None]:
    """The context an attempt runs inside: its rate limit, then its breaker. A code step's
    attempt is guarded here (run_step_attempt); a graph node's inside its own attempt, so that
    its error edge sees a breaker's refusal and its breaker sees the failure the edge takes."""
    if not _guards or (breaker is None and rate_limit is None):
        return nullcontext()
    return _guards[-1](breaker, rate_limit, scope)


def run_step_attempt(
    step: AttemptedStep,
    args: list[Any],
    kwargs: dict[str, Any],
    info: StepInfo,
    reporter: Reporter | None = None,
    logbook: LogBook | None = None,
) -> Any:
    """Run one attempt of a step's function, outside any workflow context, within its timeout;
    what it logs goes into `logbook`."""

    function = _step_overrides.get().get(step.key, step.fn)
    reporting = reporter or _current.get()

    def call() -> Any:
        _current.set(None)  # a step calling a step makes a plain call
        _step.set(info)
        _reporter.set(reporting)
        # Lines of a caller that keeps none are dropped: log() never fails a step.
        _logbook.set(logbook if logbook is not None else LogBook())
        return function(*args, **kwargs)

    # The breaker sees the attempt's outcome, timeouts included; a closed breaker or a
    # used-up rate limit raises before the function runs.
    scope = arguments_value(args, kwargs) if step.rate_limit else {}
    with guard_attempt(step.circuit_breaker, step.rate_limit, scope):
        if step.timeout is None:
            return contextvars.copy_context().run(call)
        # On timeout the attempt counts as failed and its thread is abandoned.
        return call_with_deadline(
            call, step.timeout, f"step {info.name!r}", thread_name=f"step-{info.name}"
        )


def enter(context: RunningWorkflow) -> contextvars.Token[RunningWorkflow | None]:
    return _current.set(context)


def leave(token: contextvars.Token[RunningWorkflow | None]) -> None:
    _current.reset(token)
