"""Workflow and step definitions, their decorators and the registry code workflows join."""

import hashlib
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, ClassVar, overload

from engine.core.bulkheads import Bulkhead, as_bulkhead
from engine.core.calendar import CalendarError, business_calendar
from engine.core.errors import DefinitionError
from engine.core.journal import Position
from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.core.retry import NO_RETRY, Retry
from engine.core.running import current_context
from engine.core.schedules import ScheduleSpec
from engine.core.values import JSON

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")

_workflows: dict[str, "WorkflowDefinition"] = {}
_steps: dict[str, "StepDefinition"] = {}
_actions: dict[str, "StepDefinition"] = {}
_step_resolvers: list[Callable[[str], "StepDefinition | None"]] = []
ACTION_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")


def _seconds(value: float | timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise DefinitionError(f"{what} must be positive")
    return seconds


@dataclass(frozen=True)
class StepDefinition:
    """A function whose calls inside a workflow are journaled, retried and never re-run."""

    fn: Callable[..., Any]
    key: str
    name: str
    retry: Retry = NO_RETRY
    timeout: float | None = None
    cache_ttl: float | None = None
    bulkhead: Bulkhead | None = None
    """The named limit on concurrent steps it runs under (engine.core.bulkheads)."""
    circuit_breaker: BreakerSpec | None = None
    rate_limit: RateLimitSpec | None = None
    """Its rate limit; the key template reads the attempt's arguments (`args`, `kwargs`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        context = current_context()
        if context is None:  # outside a workflow it is a plain function
            return self.fn(*args, **kwargs)
        return context.call_step(self, list(args), kwargs)

    def named(self, name: str) -> "StepDefinition":
        """The same step under another journal name, e.g. `send.named(f"send-{user}")`."""
        if not name or len(name) > 200:
            raise DefinitionError("a step name is 1 to 200 characters")
        return replace(self, name=name)

    def call(self, *args: Any, **kwargs: Any) -> "StepCall":
        """A deferred call, for parallel() and compensations."""
        return StepCall(self, list(args), dict(kwargs))


@dataclass(frozen=True)
class StepCall:
    step: StepDefinition
    args: list[Any]
    kwargs: dict[str, Any]

    def run(self) -> Any:
        return self.step(*self.args, **self.kwargs)

    def run_as_compensation(self, undoes: Position | None) -> Any:
        """Run it as the compensation of the step at `undoes`: the journal keeps the link, so
        a retry knows that step's effect was undone and does it again."""
        context = current_context()
        if context is None or undoes is None:
            return self.run()
        return context.call_step(self.step, self.args, self.kwargs, undoes=undoes)


@dataclass(frozen=True)
class WorkflowDefinition:
    """A registered code workflow: a function of one JSON input, replayed durably."""

    slug: str
    fn: Callable[[Any], Any]
    title: str
    description: str
    version: str
    timeout: float | None = None
    cache_ttl: float | None = None
    input_schema: dict[str, Any] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    schedules: tuple[ScheduleSpec, ...] = field(default_factory=tuple)
    compensate_on_cancel: bool = True
    """A cancelled (or timed-out) run first undoes what it did: its Saga compensations run."""
    calendar: dict[str, Any] | None = None
    """Business hours its approvals and reviews count their timeouts in, unless they say."""
    max_active: int | None = None
    """At most this many of its runs move at once (per concurrency key); the rest queue."""
    concurrency_key: str | None = None
    """The input field whose value the cap counts per (e.g. "customer_id")."""
    # Templates call callables; a definition shown on a page must be read, not started.
    do_not_call_in_templates: ClassVar[bool] = True

    def __call__(self, input: JSON) -> Any:
        """Calling a workflow directly runs it as a child from inside another workflow."""
        context = current_context()
        if context is None:
            raise DefinitionError(
                f"workflow {self.slug!r} runs through the engine: start it with "
                "engine.runtime.runs.start_run, or test it with engine.core.testing.WorkflowTester"
            )
        return context.start_child(self.slug, input, None).result()


@overload
def step(fn: Callable[..., Any], /) -> StepDefinition: ...


@overload
def step(
    *,
    name: str | None = None,
    retry: Retry | None = None,
    timeout: float | timedelta | None = None,
    cache: float | timedelta | None = None,
    bulkhead: str | Bulkhead | None = None,
    circuit_breaker: str | BreakerSpec | None = None,
    rate_limit: RateLimitSpec | None = None,
) -> Callable[[Callable[..., Any]], StepDefinition]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    retry: Retry | None = None,
    timeout: float | timedelta | None = None,
    cache: float | timedelta | None = None,
    bulkhead: str | Bulkhead | None = None,
    circuit_breaker: str | BreakerSpec | None = None,
    rate_limit: RateLimitSpec | None = None,
) -> StepDefinition | Callable[[Callable[..., Any]], StepDefinition]:
    """Declare a step: `@step` or `@step(retry=Retry(...), timeout=30, cache=3600)`.

    `bulkhead="payments"` (or a Bulkhead) limits how many of its calls run at once across
    every worker and run; calls beyond the limit wait durably for a slot.
    `circuit_breaker="payments-api"` (or a BreakerSpec) fails its attempts fast while that
    breaker is open; `rate_limit=RateLimitSpec(...)` spaces its attempts out per key.
    """
    limit = as_bulkhead(bulkhead)
    breaker = _breaker(circuit_breaker)
    if rate_limit is not None and not isinstance(rate_limit, RateLimitSpec):
        raise DefinitionError("rate_limit= takes a RateLimitSpec(...)")

    def declare(function: Callable[..., Any]) -> StepDefinition:
        if not callable(function):
            raise DefinitionError("@step decorates a function")
        if retry is not None and not isinstance(retry, Retry):
            raise DefinitionError("retry= takes a Retry(...)")
        key = f"{function.__module__}.{function.__qualname__}"
        if "<locals>" in key:
            # Parallel branches run in other workers, which find steps by this key.
            raise DefinitionError(f"step {key} must be defined at module level")
        definition = StepDefinition(
            fn=function,
            key=key,
            name=name or function.__name__,
            retry=retry or NO_RETRY,
            timeout=_seconds(timeout, "step timeout"),
            cache_ttl=_seconds(cache, "step cache"),
            bulkhead=limit,
            circuit_breaker=breaker,
            rate_limit=rate_limit,
        )
        _steps[key] = definition
        return definition

    return declare(fn) if fn is not None else declare


def _breaker(option: str | BreakerSpec | None) -> BreakerSpec | None:
    if option is None or isinstance(option, BreakerSpec):
        return option
    if isinstance(option, str):
        return BreakerSpec(name=option)
    raise DefinitionError("circuit_breaker= takes a breaker name or a BreakerSpec(...)")


def action(
    name: str,
    *,
    retry: Retry | None = None,
    timeout: float | timedelta | None = None,
) -> Callable[[Callable[..., Any]], StepDefinition]:
    """Declare a step that graphs can call by name (`action.python`): `@action("crm.lookup")`.

    It stays an ordinary step for code workflows, so code and canvas share building blocks.
    Graph nodes pass their `args` as keyword arguments.
    """
    if not isinstance(name, str) or not ACTION_NAME_PATTERN.match(name):
        raise DefinitionError(
            f"action name {name!r}: lowercase letters, digits, '.', '_' and '-' (max 100)"
        )

    def declare(function: Callable[..., Any]) -> StepDefinition:
        existing = _actions.get(name)
        if existing is not None and existing.fn.__qualname__ != function.__qualname__:
            raise DefinitionError(f"action {name!r} is already registered")
        definition = step(name=name, retry=retry, timeout=timeout)(function)
        _actions[name] = definition
        return definition

    return declare


def get_action(name: str) -> StepDefinition | None:
    return _actions.get(name)


def register_step_resolver(resolver: Callable[[str], "StepDefinition | None"]) -> None:
    """Let steps that are not module-level functions (graph nodes) be found by key in workers."""
    if resolver not in _step_resolvers:
        _step_resolvers.append(resolver)


def workflow(
    slug: str,
    *,
    title: str | None = None,
    timeout: float | timedelta | None = None,
    cache: float | timedelta | None = None,
    input_schema: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    schedule: ScheduleSpec | Sequence[ScheduleSpec] | None = None,
    compensate_on_cancel: bool = True,
    calendar: dict[str, Any] | None = None,
    max_active: int | None = None,
    concurrency_key: str | None = None,
) -> Callable[[Callable[[Any], Any]], WorkflowDefinition]:
    """Declare and register a code workflow under a slug: `@workflow("process-payment")`.

    `schedule=every.day.at("09:00")` (or a list of schedules) starts it by itself.
    `compensate_on_cancel=False`: cancelling a run stops it without running its compensations.
    `calendar=` business hours (engine.core.calendar) for its approvals' and reviews' timeouts.
    `max_active=5` lets at most five of its runs move at once (`concurrency_key="customer_id"`:
    five per customer); the others queue by priority, then age (engine.resilience.priorities).
    """
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise DefinitionError(
            f"workflow slug {slug!r}: use lowercase letters, digits and hyphens (max 100)"
        )
    schedules = _schedules(slug, schedule)
    _check_cap(slug, max_active, concurrency_key)
    if calendar is not None:
        try:
            calendar = business_calendar(calendar).as_json()
        except CalendarError as wrong:
            message = f"workflow {slug!r}: calendar.{wrong.field}: {wrong.message}"
            raise DefinitionError(message) from None

    def declare(function: Callable[[Any], Any]) -> WorkflowDefinition:
        parameters = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(parameters) > 1:
            raise DefinitionError(f"workflow {slug!r} takes one input argument")
        existing = _workflows.get(slug)
        if existing is not None and existing.fn.__qualname__ != function.__qualname__:
            raise DefinitionError(f"workflow slug {slug!r} is already registered")
        doc = inspect.getdoc(function) or ""
        definition = WorkflowDefinition(
            slug=slug,
            fn=function,
            title=title or doc.split("\n", 1)[0] or slug,
            description=doc,
            version=_source_version(function),
            timeout=_seconds(timeout, "workflow timeout"),
            cache_ttl=_seconds(cache, "workflow cache"),
            input_schema=input_schema,
            tags=tuple(tags),
            schedules=schedules,
            compensate_on_cancel=bool(compensate_on_cancel),
            calendar=calendar,
            max_active=max_active,
            concurrency_key=concurrency_key or None,
        )
        _workflows[slug] = definition
        return definition

    return declare


MAX_ACTIVE = 100_000
"""The largest cap on a workflow's moving runs, in code and in the admin."""


def _check_cap(slug: str, max_active: Any, concurrency_key: Any) -> None:
    if max_active is not None and (
        isinstance(max_active, bool)
        or not isinstance(max_active, int)
        or not 1 <= max_active <= MAX_ACTIVE
    ):
        raise DefinitionError(
            f"workflow {slug!r}: max_active must be a whole number from 1 to {MAX_ACTIVE:,}"
        )
    if concurrency_key is not None and (
        not isinstance(concurrency_key, str)
        or not re.match(r"^[A-Za-z_][\w.]{0,99}$", concurrency_key)
    ):
        raise DefinitionError(f"workflow {slug!r}: concurrency_key names an input field")
    if concurrency_key and max_active is None:
        raise DefinitionError(f"workflow {slug!r}: concurrency_key needs max_active")


def _schedules(
    slug: str, schedule: ScheduleSpec | Sequence[ScheduleSpec] | None
) -> tuple[ScheduleSpec, ...]:
    if schedule is None:
        return ()
    if isinstance(schedule, str):
        raise DefinitionError(f"workflow {slug!r}: write schedule=cron({schedule!r})")
    specs = (schedule,) if isinstance(schedule, ScheduleSpec) else tuple(schedule)
    for spec in specs:
        if not isinstance(spec, ScheduleSpec):
            raise DefinitionError(
                f"workflow {slug!r}: schedule= takes every...(), cron(...) or a list of them"
            )
    return specs


def _source_version(function: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = function.__qualname__
    return "code:" + hashlib.sha256(source.encode()).hexdigest()[:12]


def get_workflow(slug: str) -> WorkflowDefinition | None:
    return _workflows.get(slug)


def all_workflows() -> list[WorkflowDefinition]:
    return sorted(_workflows.values(), key=lambda definition: definition.slug)


def get_step(key: str) -> StepDefinition | None:
    found = _steps.get(key)
    if found is None:
        for resolver in _step_resolvers:
            found = resolver(key)
            if found is not None:
                break
    return found
