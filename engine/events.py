"""The event mailbox: delivering events once and matching them to waiting runs."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from engine.core.expressions import event_passes_filter
from engine.core.journal import EntryStatus, WaitSpec
from engine.core.triggers import event_id_problem, event_type_problem
from engine.dispatch import wake
from engine.models import Event, Run, StepRecord, Wait, WaitStatus
from engine.signals import send_on_commit, step_changed


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


def match_key_of(match: dict[str, Any] | None) -> tuple[str, str]:
    """Index columns for a match dict: the sorted field names and a digest of their values."""
    if not match:
        return "", ""
    fields = sorted(match)
    return ",".join(fields), _digest([match[name] for name in fields])


def _digest(values: list[Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _payload_key(payload: dict[str, Any], fields: str) -> str | None:
    names = fields.split(",")
    if not all(name in payload for name in names):
        return None
    return _digest([payload[name] for name in names])


def _matches(spec_match: dict[str, Any] | None, payload: Any) -> bool:
    if not spec_match:
        return True
    return isinstance(payload, dict) and all(
        name in payload and payload[name] == value for name, value in spec_match.items()
    )


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
    from engine.store import event_output, lock_channels
    from engine.triggers import start_subscribed

    validate_event(event_type, payload, event_id)
    payload = payload or {}
    event_id = event_id or internal_id or str(uuid.uuid4())
    with transaction.atomic():
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
        # One indexed look-up per match shape, plus the waits that match on no field.
        wanted = Q(match_fields="")
        for fields in channel.match_shapes:
            key = _payload_key(payload, fields)
            if key is not None:
                wanted |= Q(match_fields=fields, match_key=key)
        candidates = list(open_waits.filter(wanted))
        woken: list[int] = []
        satisfied_runs: set[int] = set()
        inputs: dict[int, Any] = {}
        for wait in sorted(candidates, key=lambda w: (w.created_at, w.pk)):
            if wait.run_id in satisfied_runs or not _matches(wait.match, payload):
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
            if _satisfy(wait, event, event_output(event)):
                satisfied_runs.add(wait.run_id)
                if wake(wait.run_id):
                    woken.append(wait.run_id)
        started = start_subscribed(event)
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


def _satisfy(wait: Wait, event: Event, output: dict[str, Any]) -> bool:
    # All waits of the position close together (any-of); conditional, so a timeout that
    # already expired the wait keeps its verdict.
    closed = Wait.objects.filter(
        run_id=wait.run_id, seq=wait.seq, status=WaitStatus.WAITING
    ).update(status=WaitStatus.SATISFIED, event=event)
    if not closed:
        return False
    StepRecord.objects.filter(
        run_id=wait.run_id,
        seq=wait.seq,
        branch=0,
        kind="wait",
        superseded=False,
        status=EntryStatus.WAITING,
    ).update(status=EntryStatus.COMPLETED, output=output, finished_at=timezone.now())
    send_on_commit(
        step_changed,
        run_id=wait.run_id,
        seq=wait.seq,
        branch=0,
        name=wait.event_type,
        kind="wait",
        status=EntryStatus.COMPLETED,
        attempt=1,
    )
    return True


def find_buffered_event(run: Run, seq: int, spec: WaitSpec) -> Event | None:
    """An event that arrived since the run was created, unconsumed by it, matching the wait.

    When found it is marked consumed by this position, so a later wait of the same run
    cannot take it again.
    """
    consumed = Wait.objects.filter(run_id=run.pk, event__isnull=False).values("event_id")
    events = Event.objects.filter(type__in=spec.event_types, received_at__gte=run.created_at)
    for name, value in (spec.match or {}).items():
        # Narrow in the database where the key is a plain name; _matches() still decides.
        if name.isidentifier() and "__" not in name and isinstance(value, (str, int, bool)):
            events = events.filter(**{f"payload__{name}": value})
    events = events.exclude(pk__in=consumed).order_by("received_at", "pk")
    for event in events[:500]:
        if _matches(spec.match, event.payload) and event_passes_filter(
            spec.filter, event.payload, run.input, spec.scope
        ):
            Wait.objects.create(
                run_id=run.pk,
                seq=seq,
                event_type=event.type,
                status=WaitStatus.SATISFIED,
                event=event,
                created_at=timezone.now(),
            )
            return event
    return None


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
