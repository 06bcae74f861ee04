"""The functions workflow code calls: durable time, events, fan-out, children, reporting."""

import random as _random
import uuid as _uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.context import ChildRun, Reporter, current_logbook, current_reporter, current_step
from engine.core.definitions import StepCall, WorkflowDefinition
from engine.core.durations import later
from engine.core.errors import DefinitionError
from engine.core.expressions import ExpressionError, compile_expression
from engine.core.journal import WaitSpec
from engine.core.logs import check_level, format_message, line
from engine.core.replay import ExecutionContext
from engine.core.running import current_context, require_context
from engine.core.triggers import reserved_event_type_problem
from engine.core.values import JSON


def _as_seconds(duration: float | timedelta, what: str) -> float:
    try:
        seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    except OverflowError:  # an int past float's range
        raise DefinitionError(f"{what} of {duration!r} seconds is too long to schedule") from None
    if seconds < 0:
        raise DefinitionError(f"{what} cannot be negative")
    return seconds


def now() -> datetime:
    """The current time, journaled: a replay sees the same moment."""
    context = require_context("now()")
    return datetime.fromisoformat(context.value("now", context.backend.now))


def uuid4() -> str:
    """A random UUID, journaled: a replay sees the same one."""
    return str(require_context("uuid4()").value("uuid4", lambda: str(_uuid.uuid4())))


def random() -> float:
    """A random float in [0, 1), journaled: a replay sees the same one."""
    return float(require_context("random()").value("random", _random.random))


def sleep(duration: float | timedelta, *, name: str = "sleep") -> None:
    """Wait durably; the run holds no worker while it sleeps."""
    context = require_context("sleep()")
    seconds = _as_seconds(duration, "sleep duration")
    wake_at = later(context.backend.now(), seconds, "sleep duration")
    context.sleep_until(wake_at, name)


def sleep_until(moment: datetime, *, name: str = "sleep") -> None:
    """Wait durably until an aware datetime."""
    if moment.tzinfo is None:
        raise DefinitionError("sleep_until() needs an aware datetime")
    require_context("sleep_until()").sleep_until(moment, name)


def wait_for(
    event_type: str,
    *,
    match: dict[str, Any] | None = None,
    filter: str | None = None,
    timeout: float | timedelta | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Wait durably for an event; returns {"id", "type", "payload", "received_at"}.

    `match` keeps events whose payload has those values; `filter` is a CEL expression over
    `event` (the payload) and `input` (the run's input). An event that arrived before the
    wait began still counts if this run has not consumed it. Raises WaitTimeout at the
    timeout, which the workflow may catch to remind someone and wait again.
    """
    return wait_for_any([event_type], match=match, filter=filter, timeout=timeout, name=name)


def wait_for_any(
    event_types: Iterable[str],
    *,
    match: dict[str, Any] | None = None,
    filter: str | None = None,
    timeout: float | timedelta | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Like wait_for(), satisfied by the first matching event of any of the types."""
    context = require_context("wait_for()")
    spec, label, seconds = _wait_spec(context, event_types, match, filter, timeout, name)
    result: dict[str, Any] = context.wait_for(spec, label, seconds)
    return result


def _wait_spec(
    context: ExecutionContext,
    event_types: Iterable[str],
    match: dict[str, Any] | None,
    filter: str | None,
    timeout: float | timedelta | None,
    name: str | None,
) -> tuple[WaitSpec, str, float | None]:
    types = tuple(event_types)
    if not types or not all(isinstance(kind, str) and kind for kind in types):
        raise DefinitionError("wait_for() needs at least one event type")
    # Waits see only events anyone may send; the engine's own events are its internals.
    for kind in types:
        reserved = reserved_event_type_problem(kind)
        if reserved is not None:
            raise DefinitionError(f"wait_for(): {reserved}")
    if match is not None and not isinstance(match, dict):
        raise DefinitionError("wait_for(match=...) takes a dict of payload values")
    if filter is not None:
        try:
            compile_expression(filter, field="filter")
        except ExpressionError as error:
            raise DefinitionError(f"wait_for(filter=...): {error}") from None
    seconds = None if timeout is None else _as_seconds(timeout, "wait timeout")
    deadline = None if seconds is None else later(context.backend.now(), seconds, "wait timeout")
    return WaitSpec(types, match, filter, deadline), name or "wait:" + "|".join(types), seconds


def parallel(
    calls: Iterable[StepCall], *, concurrency: int | None = None, name: str = "parallel"
) -> list[Any]:
    """Run steps at the same time (on any worker), at most `concurrency` at once; results
    come back in the order of `calls`. A step that fails for good raises StepFailed."""
    context = require_context("parallel()")
    call_list = list(calls)
    if not all(isinstance(call, StepCall) for call in call_list):
        raise DefinitionError("parallel() takes step calls: my_step.call(arg, ...)")
    if concurrency is not None and concurrency < 1:
        raise DefinitionError("parallel(concurrency=...) must be at least 1")
    return context.parallel(call_list, concurrency, name)


def start_child(
    workflow: WorkflowDefinition | str,
    input: JSON = None,
    *,
    idempotency_key: str | None = None,
    detached: bool = False,
) -> ChildRun:
    """Start a child workflow now; await it later with `.result()`.

    A child ends when its parent ends, unless detached: a detached run carries on alone
    (fire and forget, e.g. a compensation started just before the parent fails).
    """
    slug = workflow.slug if isinstance(workflow, WorkflowDefinition) else workflow
    context = require_context("start_child()")
    return context.start_child(slug, input, idempotency_key, detached)


def run_child(workflow: WorkflowDefinition | str, input: JSON = None) -> Any:
    """Start a child workflow and wait durably for its output."""
    return start_child(workflow, input).result()


def progress(current: float, total: float | None = None, message: str | None = None) -> None:
    """Report how far the run is (e.g. step 3 of 10), shown live in the monitor."""
    _require_reporter("progress()").report_progress(current, total, message)


def metric(name: str, value: float) -> None:
    """Record a named number for this run (e.g. emails_sent), shown live in the monitor."""
    if not name:
        raise DefinitionError("metric() needs a name")
    _require_reporter("metric()").report_metric(name, value)


def log(message: str, *args: Any, level: str = "info") -> None:
    """Write a line to the run's log, `message % args` as the logging module formats it.

    Inside a step the line is kept with the step's journal record (bounded: see
    engine.core.logs), written with its result. In workflow code each call is a journaled value
    of its own, so a replay never writes it twice (it takes a position, like now()).
    """
    level = check_level(level)
    text = format_message(message, args)
    book = current_logbook()
    if book is not None and current_step() is not None:
        book.add(level, text, datetime.now(UTC))
        return
    context = current_context()
    if context is None:
        raise DefinitionError("log() works only inside a running workflow or step")
    context.value("log", lambda: line(level, text, context.backend.now()))


def _require_reporter(what: str) -> Reporter:
    reporter = current_reporter()
    if reporter is None:
        raise DefinitionError(f"{what} works only inside a running workflow or step")
    return reporter


def idempotency_key() -> str:
    """Inside a step: a key that stays the same across its retries and replays."""
    info = current_step()
    if info is None:
        raise DefinitionError("idempotency_key() works only inside a running step")
    return info.idempotency_key


# --- waiting for several things at once ----------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """A sleep, event wait or child result registered without suspending the run.

    Register several, then take them one at a time with first_settled(): the run suspends
    only when none of them is settled. This is how a graph's parallel branches wait side by
    side; workflow code rarely needs it (parallel() and start_child() cover most cases).
    """

    seq: int
    name: str


def pending_sleep_until(moment: datetime, *, name: str = "sleep") -> Pending:
    if moment.tzinfo is None:
        raise DefinitionError("pending_sleep_until() needs an aware datetime")
    entry = require_context("pending_sleep_until()").begin_pending_sleep(moment, name)
    return Pending(entry.seq, name)


def pending_wait_for_any(
    event_types: Iterable[str],
    *,
    match: dict[str, Any] | None = None,
    filter: str | None = None,
    filter_scope: dict[str, Any] | None = None,
    timeout: float | timedelta | None = None,
    name: str | None = None,
) -> Pending:
    """Begin waiting without blocking; `filter_scope` adds names the filter may read."""
    context = require_context("pending_wait_for_any()")
    spec, label, _ = _wait_spec(context, event_types, match, filter, timeout, name)
    if filter_scope:
        spec = replace(spec, scope=filter_scope)
    return Pending(context.begin_pending_wait(spec, label).seq, label)


def pending_child(child: ChildRun) -> Pending:
    context = require_context("pending_child()")
    return Pending(context.begin_pending_child(child.workflow, child.run_id).seq, child.workflow)


def first_settled(pending: Iterable[Pending], *, name: str = "settled") -> Pending | None:
    """The first of these that has settled (the choice is journaled), or None if none has."""
    context = require_context("first_settled()")
    by_seq = {item.seq: item for item in pending}
    chosen = context.choose_settled(sorted(by_seq), name)
    return None if chosen is None else by_seq[chosen]


def outcome(pending: Pending) -> Any:
    """A settled wait's result: the event, the child's output, or None for a sleep.

    Raises WaitTimeout for an event wait that timed out, ChildWorkflowFailed for a child that
    did not complete.
    """
    return require_context("outcome()").outcome(pending.seq, pending.name)
