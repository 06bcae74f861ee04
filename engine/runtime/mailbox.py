"""The event mailbox of waiting runs: how a wait is keyed, satisfied and found among the
events that came before it. Deliveries (engine.inbound.events) and the journal
(engine.runtime.store) both work through it."""

import hashlib
import json
from typing import Any

from django.utils import timezone

from engine.core.expressions import event_passes_filter
from engine.core.journal import EntryStatus, WaitSpec
from engine.messaging.signals import send_on_commit, step_changed
from engine.models import Event, EventChannel, Run, StepRecord, Wait, WaitStatus


def match_key_of(match: dict[str, Any] | None) -> tuple[str, str]:
    """Index columns for a match dict: the sorted field names and a digest of their values."""
    if not match:
        return "", ""
    fields = sorted(match)
    return ",".join(fields), _digest([match[name] for name in fields])


def _digest(values: list[Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def payload_key(payload: dict[str, Any], fields: str) -> str | None:
    names = fields.split(",")
    if not all(name in payload for name in names):
        return None
    return _digest([payload[name] for name in names])


def matches(spec_match: dict[str, Any] | None, payload: Any) -> bool:
    if not spec_match:
        return True
    return isinstance(payload, dict) and all(
        name in payload and payload[name] == value for name, value in spec_match.items()
    )


def lock_channels(event_types: tuple[str, ...] | list[str]) -> dict[str, EventChannel]:
    """Lock the channel rows of these event types, in sorted order so that locks never cross."""
    ordered = sorted(set(event_types))

    def lock() -> dict[str, EventChannel]:
        rows = EventChannel.objects.select_for_update().filter(type__in=ordered).order_by("type")
        return {channel.type: channel for channel in rows}

    locked = lock()
    if len(locked) < len(ordered):
        EventChannel.objects.bulk_create(
            [EventChannel(type=kind) for kind in ordered if kind not in locked],
            ignore_conflicts=True,
        )
        locked = lock()
    return locked


def event_output(event: Any) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "payload": event.payload,
        "received_at": event.received_at.isoformat(),
    }


def satisfy_wait(wait: Wait, event: Event, output: dict[str, Any]) -> bool:
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
        # Narrow in the database where the key is a plain name; matches() still decides.
        if name.isidentifier() and "__" not in name and isinstance(value, (str, int, bool)):
            events = events.filter(**{f"payload__{name}": value})
    events = events.exclude(pk__in=consumed).order_by("received_at", "pk")
    for event in events[:500]:
        if matches(spec.match, event.payload) and event_passes_filter(
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
