"""The event mailbox: delivering events once and matching them to waiting runs."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.core.context import current_step
from engine.core.expressions import event_passes_filter
from engine.core.triggers import event_id_problem, event_type_problem
from engine.inbound.triggers import bounded, start_subscribed
from engine.messaging.dispatch import wake
from engine.models import Event, Run, Wait, WaitStatus
from engine.runtime.mailbox import event_output, lock_channels, matches, payload_key, satisfy_wait
from engine.runtime.rollups import rollups_in_key_order

EventListener = Callable[[Event], object]
"""Told of every new event inside its delivery's transaction (state machines listen so)."""

_listeners: list[EventListener] = []


def register_event_listener(listener: EventListener) -> None:
    """Let a later room (machines) receive events without this room importing it."""
    if listener not in _listeners:
        _listeners.append(listener)


class EventInputError(ValueError):
    """A bad event: the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Delivery:
    event: Event
    created: bool
    woken_runs: list[int]
    started_runs: list[int] = field(default_factory=list)


def validate_event(event_type: Any, payload: Any, event_id: Any) -> None:
    """Raise EventInputError naming the field for a type, payload or caller's id refused."""
    problem = event_type_problem(event_type)
    if problem is not None:
        raise EventInputError("type", problem)
    if payload is not None and not isinstance(payload, dict):
        raise EventInputError("payload", "must be a JSON object")
    if event_id is not None:
        problem = event_id_problem(event_id)
        if problem is not None:
            raise EventInputError("id", problem)


def deliver_event(
    event_type: str,
    payload: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    internal_id: str | None = None,
    source: str = "api",
    emitted_by: int | None = None,
) -> Delivery:
    """Store an event once, satisfy every open wait it matches (one per run) and start every
    workflow subscribed to it; a duplicate id changes nothing. `emitted_by` is the run that
    emits it, which places it in a chain of events (see Event.depth).

    `event_id` comes from outside and may not use a reserved prefix; `internal_id`, used when
    `event_id` is None, is one the engine made itself (a step's key, a webhook delivery's).
    """
    validate_event(event_type, payload, event_id)
    payload = payload or {}
    event_id = event_id or internal_id or str(uuid.uuid4())
    # Subscribers of several workflows start here: their rollup rows are taken in key order.
    with transaction.atomic(), rollups_in_key_order():
        try:
            with transaction.atomic():
                event = Event.objects.create(
                    event_id=event_id,
                    type=event_type,
                    payload=payload,
                    source=source,
                    depth=_depth_after(emitted_by),
                    received_at=timezone.now(),
                )
        except IntegrityError:
            return Delivery(Event.objects.get(event_id=event_id), created=False, woken_runs=[])
        channel = lock_channels([event_type])[event_type]
        open_waits = Wait.objects.filter(event_type=event_type, status=WaitStatus.WAITING)
        # One indexed look-up per match shape, plus the waits that match on no field, as a
        # UNION: ORed into one WHERE, PostgreSQL may use only the index's event type and then
        # read every open wait of that type (12 ms with 33,000 runs waiting for it).
        lookups = [open_waits.filter(match_fields="")]
        for fields in channel.match_shapes:
            key = payload_key(payload, fields)
            if key is not None:
                lookups.append(open_waits.filter(match_fields=fields, match_key=key))
        candidates = list(lookups[0].union(*lookups[1:], all=True))
        woken: list[int] = []
        satisfied_runs: set[int] = set()
        inputs: dict[int, Any] = {}
        for wait in sorted(candidates, key=lambda w: (w.created_at, w.pk)):
            if wait.run_id in satisfied_runs or not matches(wait.match, payload):
                continue
            if wait.filter:
                if wait.run_id not in inputs:
                    inputs[wait.run_id] = Run.objects.values_list("input", flat=True).get(
                        pk=wait.run_id
                    )
                if not event_passes_filter(
                    wait.filter, payload, inputs[wait.run_id], wait.filter_scope
                ):
                    continue
            if satisfy_wait(wait, event, event_output(event)):
                satisfied_runs.add(wait.run_id)
                if wake(wait.run_id):
                    woken.append(wait.run_id)
        started = start_subscribed(event)
        for listener in _listeners:
            listener(event)
    return Delivery(event, created=True, woken_runs=woken, started_runs=started)


def _depth_after(run_id: int | None) -> int:
    """The depth of an event a run emits: one more than the event that started the run."""
    if run_id is None:
        return 0
    run = Run.objects.filter(pk=run_id).values("trigger", "trigger_ref").first()
    if run is None or run["trigger"] != "event":
        return 1
    started_by = Event.objects.filter(event_id=run["trigger_ref"]).values_list("depth", flat=True)
    return (started_by.first() or 0) + 1


def event_history(
    *, event_type: str | None = None, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest events, each with the runs it started and the runs whose waits it satisfied.

    Three queries, however many events are listed.
    """
    events = Event.objects.order_by("-received_at", "-id")
    if event_type:
        events = events.filter(type=event_type)
    if source:
        events = events.filter(source=source)
    listed = list(events[:limit])
    ids = [event.event_id for event in listed]
    started: dict[str, list[dict[str, Any]]] = {}
    for run_id, workflow, status, event_id in (
        Run.objects.filter(trigger="event", trigger_ref__in=ids)
        .order_by("id")
        .values_list("id", "workflow", "status", "trigger_ref")
    ):
        started.setdefault(event_id, []).append(
            {"id": run_id, "workflow": workflow, "status": status}
        )
    woken: dict[int, list[int]] = {}
    for event_pk, run_id in (
        Wait.objects.filter(event__in=listed, status=WaitStatus.SATISFIED)
        .order_by("run_id")
        .values_list("event_id", "run_id")
        .distinct()
    ):
        woken.setdefault(event_pk, []).append(run_id)
    return [
        {
            "id": event.event_id,
            "type": event.type,
            "source": event.source,
            "depth": event.depth,
            "payload": event.payload,
            "received_at": event.received_at,
            "started_runs": started.get(event.event_id, []),
            "woken_runs": woken.get(event.pk, []),
        }
        for event in listed
    ]


# --- emit() from code workflows ----------------------------------------------------------------
def emit_from_code(
    event_type: str, payload: dict[str, Any], event_id: str | None, internal_id: str | None
) -> dict[str, Any]:
    """What `engine.core.emit` calls inside its step: deliver the event through the mailbox.

    `event_id` is the author's (checked like any caller's), `internal_id` the step's key.
    """
    info = current_step()
    delivery = deliver_event(
        event_type,
        payload,
        event_id=event_id,
        internal_id=bounded(internal_id) if internal_id else None,
        source="workflow",
        emitted_by=info.run_id if info else None,
    )
    return {"id": delivery.event.event_id, "type": delivery.event.type, "payload": payload}
