"""Event triggers for code workflows, and `emit()` for sending events from them.

    @on.Order.created                                   # the event's payload is the input
    @workflow("fulfill-order")
    def fulfill_order(order: dict) -> dict: ...

    @on("User.registered", "User.verified", filter="event.plan != 'free'")
    @workflow("onboarding")
    def onboarding(user: dict) -> None: ...

    @on.Product.updated(debounce=timedelta(seconds=5), key="event.id")
    @workflow("search-index-update")
    def update_index(product: dict) -> None: ...

    @on.Invoice.overdue(priority=50)                    # its runs go before others held
    @workflow("dunning")
    def dunning(invoice: dict) -> None: ...

    @on.Cart.abandoned(start=cart_reminder, delay=timedelta(hours=1))
    def first_reminder(cart: dict) -> dict:             # shapes the input of the run
        return {"cart": cart["id"], "reminder": 1}

The registry is plain Python; the engine matches each new event against it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, overload

from engine.core.context import current_step
from engine.core.definitions import WorkflowDefinition, step
from engine.core.errors import DefinitionError
from engine.core.expressions import ExpressionError, compile_expression
from engine.core.priority import priority_problem
from engine.core.retry import Retry

EVENT_TYPE_PATTERN = r"^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9_]*$"
"""Semantic event names: a capitalised noun, a dot, a lowercase verb (`Order.created`)."""

_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)
EVENT_TYPE_MAX = 200
EVENT_ID_MAX = 200

RESERVED_EVENT_NOUNS = ("Task", "Run", "Step", "Stepwise")
"""Nouns of the engine's own event types: one sent from outside (`Task.decided`) would pass for
the engine's word, so no one else may send, subscribe to or wait for them."""

RESERVED_EVENT_ID_PREFIXES = ("stepwise:", "webhook:")
"""Prefixes of the ids the engine gives events (step idempotency keys, webhook deliveries).

An outside event that took one of these ids first would make the engine's own event a
duplicate, which the mailbox drops without a word.
"""

Target = TypeVar("Target")


def event_type_problem(name: Any) -> str | None:
    """Why `name` is not an event type anyone may send, or None when it is one."""
    if not isinstance(name, str) or not name:
        return "an event type such as Order.created is required"
    if len(name) > EVENT_TYPE_MAX:
        return f"at most {EVENT_TYPE_MAX} characters"
    if not _EVENT_TYPE.match(name):
        return (
            f"{name!r} is not a Noun.verb event type: a capitalised noun, a dot and a "
            "lowercase verb, e.g. Order.created"
        )
    return reserved_event_type_problem(name)


def reserved_event_type_problem(name: str) -> str | None:
    """Why `name` is kept for the engine's own events, or None when it is not."""
    noun = name.split(".", 1)[0]
    if noun not in RESERVED_EVENT_NOUNS:
        return None
    reserved = ", ".join(f"{each}.*" for each in RESERVED_EVENT_NOUNS)
    problem = f"{name!r} is reserved for the engine's own events ({reserved})"
    if noun == "Task":
        problem += "; decide tasks in the inbox or with POST /api/tasks/{id}/decide"
    return problem


def event_id_problem(event_id: Any) -> str | None:
    """Why an event id given from outside the engine cannot be used, or None when it can."""
    if not isinstance(event_id, str) or not 0 < len(event_id) <= EVENT_ID_MAX:
        return f"must be a string of 1 to {EVENT_ID_MAX} characters"
    for prefix in RESERVED_EVENT_ID_PREFIXES:
        if event_id.startswith(prefix):
            return f"ids starting with {prefix!r} are reserved for events the engine emits"
    return None


def check_event_type(name: Any) -> str:
    """Return the event type, or raise DefinitionError saying what a good one looks like."""
    problem = event_type_problem(name)
    if problem is not None:
        raise DefinitionError(f"event type: {problem}")
    return str(name)


def _seconds(value: float | timedelta, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise DefinitionError(f"{what} takes seconds or a timedelta")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise DefinitionError(f"{what} must be positive")
    return seconds


def _check_cel(source: Any, what: str) -> str:
    try:
        compile_expression(source, field=what)
    except ExpressionError as error:
        raise DefinitionError(f"{what}: {error}") from None
    return str(source)


@dataclass(frozen=True)
class Debounce:
    """Of the events with one key inside the window, only the last one starts a run."""

    seconds: float
    key: str | None = None
    """CEL over `event`; None puts every event of the subscription in one window."""


@dataclass(frozen=True)
class EventSubscription:
    """A code workflow started by events of these types (the payload, or a function of it)."""

    event_types: tuple[str, ...]
    workflow: str
    filter: str | None = None
    debounce: Debounce | None = None
    delay: float | None = None
    handler: Callable[[Any], Any] | None = None
    priority: int = 0
    """The priority of the runs it starts (engine.core.priority)."""

    @property
    def name(self) -> str:
        """ "" when the workflow itself is decorated, else the function shaping the input.

        One event starts a workflow once per name, so two functions may each start it.
        """
        if self.handler is None:
            return ""
        return f"{self.handler.__module__}.{self.handler.__qualname__}"

    def input_for(self, payload: Any) -> Any:
        return payload if self.handler is None else self.handler(payload)


_subscriptions: dict[tuple[str, tuple[str, ...], str], EventSubscription] = {}


def subscribe(subscription: EventSubscription) -> EventSubscription:
    """Add a subscription; declaring the same one again (a re-imported module) replaces it."""
    _subscriptions[(subscription.workflow, subscription.event_types, subscription.name)] = (
        subscription
    )
    return subscription


def subscriptions_for(event_type: str) -> list[EventSubscription]:
    return [found for found in _subscriptions.values() if event_type in found.event_types]


def all_subscriptions() -> list[EventSubscription]:
    return sorted(_subscriptions.values(), key=lambda found: (found.workflow, found.event_types))


_OPTIONS = frozenset({"filter", "debounce", "key", "delay", "start", "priority"})


class EventSelector:
    """`on.Order.created`: decorates a workflow, or takes options and then decorates it."""

    def __init__(self, event_types: tuple[str, ...], options: dict[str, Any] | None = None):
        self.event_types = event_types
        self.options = dict(options or {})

    def __repr__(self) -> str:
        return f"on({', '.join(map(repr, self.event_types))})"

    @overload
    def __call__(self, target: None = None, /, **options: Any) -> "EventSelector": ...

    @overload
    def __call__(self, target: Target, /, **options: Any) -> Target: ...

    def __call__(self, target: Any = None, /, **options: Any) -> Any:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise DefinitionError(
                f"on.{'/'.join(self.event_types)}: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_OPTIONS))})"
            )
        merged = {**self.options, **options}
        if target is None:
            _subscription(self.event_types, None, merged)  # bad options fail here, not later
            return EventSelector(self.event_types, merged)
        subscribe(_subscription(self.event_types, target, merged))
        return target


def _subscription(
    event_types: tuple[str, ...], target: Any, options: dict[str, Any]
) -> EventSubscription:
    where = f"on({', '.join(event_types)})"
    filter_source = options.get("filter")
    if filter_source is not None:
        _check_cel(filter_source, f"{where} filter")
    debounce = None
    if options.get("debounce") is not None:
        key = options.get("key")
        if key is not None:
            _check_cel(key, f"{where} key")
        debounce = Debounce(_seconds(options["debounce"], f"{where} debounce"), key)
    elif options.get("key") is not None:
        raise DefinitionError(f"{where}: key= is the debounce key; give debounce= too")
    delay = None
    if options.get("delay") is not None:
        if debounce is not None:
            raise DefinitionError(f"{where}: debounce= and delay= cannot be combined")
        delay = _seconds(options["delay"], f"{where} delay")
    priority = options.get("priority", 0)
    if (problem := priority_problem(priority)) is not None:
        raise DefinitionError(f"{where}: priority {problem}")
    start = options.get("start")
    if start is not None and not isinstance(start, (WorkflowDefinition, str)):
        raise DefinitionError(f"{where}: start= takes a workflow or its slug")
    handler: Callable[[Any], Any] | None = None
    if target is None:
        workflow = ""
    elif isinstance(target, WorkflowDefinition):
        if start is not None:
            raise DefinitionError(
                f"{where}: start= names the workflow a decorated function feeds; "
                f"here the workflow {target.slug!r} is decorated itself"
            )
        workflow = target.slug
    elif callable(target):
        if start is None:
            raise DefinitionError(
                f"{where} decorates a workflow: put it above @workflow(...), or give "
                "start=<workflow> to make this function return that workflow's input"
            )
        workflow = start.slug if isinstance(start, WorkflowDefinition) else start
        handler = target
    else:
        raise DefinitionError(f"{where} decorates a workflow or a function")
    return EventSubscription(
        event_types=event_types,
        workflow=workflow,
        filter=filter_source,
        debounce=debounce,
        delay=delay,
        handler=handler,
        priority=priority,
    )


class _Noun:
    def __init__(self, noun: str) -> None:
        self.noun = noun

    def __getattr__(self, verb: str) -> EventSelector:
        if verb.startswith("__"):
            raise AttributeError(verb)
        return EventSelector((check_event_type(f"{self.noun}.{verb}"),))


class _On:
    """`on.Order.created`, or `on("Order.created", on.Order.updated, filter=...)`."""

    def __getattr__(self, noun: str) -> _Noun:
        if noun.startswith("__"):
            raise AttributeError(noun)
        return _Noun(noun)

    def __call__(self, *event_types: Any, **options: Any) -> EventSelector:
        types: list[str] = []
        for given in event_types:
            items = given if isinstance(given, (list, tuple)) else [given]
            for item in items:
                if isinstance(item, EventSelector):
                    types.extend(item.event_types)
                else:
                    types.append(check_event_type(item))
        if not types:
            raise DefinitionError("on(...) needs at least one event type, e.g. on.Order.created")
        selector = EventSelector(tuple(dict.fromkeys(types)))
        return selector(**options) if options else selector


on = _On()
"""Start workflows on events: `@on.Order.created` above `@workflow(...)`."""


# --- emit ---------------------------------------------------------------------------------
Emitter = Callable[[str, dict[str, Any], str | None, str | None], dict[str, Any]]
"""(type, payload, the author's id or None, the engine's id used when the author gave none)."""
_emitters: list[Emitter] = []


def register_emitter(emitter: Emitter) -> None:
    """Let emit() deliver through the engine (registered when Django starts)."""
    _emitters[:] = [emitter]


@step(name="emit", retry=Retry(max_attempts=3, initial_delay=0.5))
def _emit_event(event_type: str, payload: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    if not _emitters:
        raise DefinitionError("emit() delivers through the engine, and none is running here")
    info = current_step()
    # The step's idempotency key is the default id: a retried attempt delivers the same event,
    # which the mailbox stores once. It is passed apart from the author's id because only the
    # engine may use its reserved `stepwise:` prefix.
    internal_id = info.idempotency_key if info is not None else None
    return _emitters[0](event_type, payload, event_id, internal_id)


def emit(
    event_type: str | EventSelector, payload: dict[str, Any] | None = None, *, id: str | None = None
) -> dict[str, Any]:
    """Emit an event that starts subscribed workflows and wakes waiting runs.

    Inside a workflow it is a journaled step: a replay emits nothing new. Returns
    {"id", "type", "payload"}.
    """
    if isinstance(event_type, EventSelector):
        if len(event_type.event_types) != 1:
            raise DefinitionError("emit() sends one event type")
        event_type = event_type.event_types[0]
    check_event_type(event_type)
    if payload is not None and not isinstance(payload, dict):
        raise DefinitionError("emit(payload=...) takes a dict")
    if id is not None:
        problem = event_id_problem(id)
        if problem is not None:
            raise DefinitionError(f"emit(id=...): {problem}")
    result: dict[str, Any] = _emit_event.named(f"emit:{event_type}")(event_type, payload or {}, id)
    return result
