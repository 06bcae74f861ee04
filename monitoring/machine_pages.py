"""What the machine pages show: one instance as a cockpit, and a machine's overview (its
instances by state, its most frequent transitions of the last day)."""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from engine.core.machine_code import all_machines
from engine.machines.definitions import UnknownMachine, newest_machine, pinned_machine
from engine.machines.queries import instance_detail, instances_of, state_counts
from engine.models import MachineEvent, MachineEventStatus, MachineInstance, MachineVersion
from monitoring.durations import format_duration

INSTANCE_ROWS = 100
OVERVIEW_WINDOW = timedelta(days=1)
TOP_TRANSITIONS = 10


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int
    percent: str  # of the largest count, for the bar's width; a dot, never localised
    final: bool


def machine_slugs() -> list[tuple[str, str]]:
    """(slug, title) of every machine instances can start on: code and published."""
    found = {machine.slug: machine.title for machine in all_machines()}
    for slug, title in (
        MachineVersion.objects.filter(retired=False)
        .order_by("machine", "number")
        .values_list("machine", "title")
    ):
        found.setdefault(slug, title)
    return sorted(found.items())


def overview(slug: str, state: str | None = None) -> dict[str, Any] | None:
    """Counts per state (every state of the newest definition, zeros included), the top
    transitions of the last day, and the instances (longest in their state first)."""
    try:
        pinned = newest_machine(slug)
    except UnknownMachine:
        if not MachineInstance.objects.filter(machine=slug).exists():
            return None
        pinned = None
    counts = state_counts(slug)
    states = list(pinned.definition.states.values()) if pinned else []
    names = [row.id for row in states if not pinned or not pinned.definition.children(row.id)]
    names += sorted(name for name in counts if name not in names)
    largest = max(counts.values(), default=0)
    labels = {row.id: row.label or row.id for row in states}
    finals = {row.id for row in states if row.final}
    bars = [
        StateCount(
            name,
            labels.get(name, name),
            counts.get(name, 0),
            f"{(100 * counts.get(name, 0) / largest) if largest else 0:.1f}",
            name in finals,
        )
        for name in names
    ]
    since = timezone.now() - OVERVIEW_WINDOW
    top = (
        MachineEvent.objects.filter(
            instance__machine=slug, status=MachineEventStatus.APPLIED, applied_at__gte=since
        )
        .exclude(from_state="")
        .values("name", "from_state", "to_state")
        .annotate(n=Count("id"))
        .order_by("-n", "name")[:TOP_TRANSITIONS]
    )
    now = timezone.now()
    rows = [
        {"instance": instance, "in_state": format_duration(now - instance.entered_at)}
        for instance in instances_of(slug, state=state or None)[:INSTANCE_ROWS]
    ]
    return {
        "slug": slug,
        "title": pinned.title if pinned else slug,
        "version": pinned.version if pinned else None,
        "bars": bars,
        "total": sum(counts.values()),
        "top": list(top),
        "rows": rows,
        "state_filter": state or "",
        "states": names,
    }


def cockpit(instance: MachineInstance) -> dict[str, Any]:
    """The instance with what it may do now, its timers and history, for the cockpit."""
    detail = instance_detail(instance)
    definition = pinned_machine(instance.machine, instance.version).definition
    path = definition.path(instance.state) if instance.state in definition.states else []
    now = timezone.now()
    return {
        **detail,
        "in_state": format_duration(now - instance.entered_at),
        "state_path": [definition.states[name].label or name for name in reversed(path)],
        "context_json": json.dumps(instance.context, indent=2, ensure_ascii=False, default=str),
        "history": list(reversed(detail["history"])),
        "queued": sum(1 for event in detail["history"] if event["status"] == "pending"),
    }


def parse_value(text: str) -> Any:
    """A value typed in the event-data form: a number, true/false/null, or a JSON list or
    object when it reads as one; anything else is the text itself."""
    stripped = text.strip()
    if (
        stripped in ("true", "false", "null")
        or stripped[:1] in ("[", "{", "-")
        or (stripped[:1].isdigit())
    ):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text
