"""Schedules declared in code (`@workflow(schedule=...)`) and in graphs (`trigger.schedule`
nodes) kept in step with their rows: created, updated, or removed when no longer declared.
Whether a declared schedule is paused is the operator's call once it exists."""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from engine.core.definitions import all_workflows
from engine.core.errors import DefinitionError
from engine.core.schedules import ScheduleSpec
from engine.inbound.schedules import save_schedule
from engine.models import GraphVersion, Schedule, ScheduleSource

logger = logging.getLogger(__name__)

SCHEDULE_NODE = "trigger.schedule"


@dataclass(frozen=True)
class SyncReport:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __add__(self, other: "SyncReport") -> "SyncReport":
        return SyncReport(
            self.created + other.created,
            self.updated + other.updated,
            self.deleted + other.deleted,
        )


def _values(workflow: str, name: str, spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "name": name[:200],
        "workflow": workflow,
        "cron": spec.cron,
        "interval_seconds": spec.interval_seconds,
        "timezone": spec.timezone,
        "start_at": spec.start_at,
        "end_at": spec.end_at,
        "jitter_seconds": spec.jitter_seconds,
        "input": spec.input,
        "overlap": spec.overlap,
        "catch_up": spec.catch_up,
        "catch_up_limit": spec.catch_up_limit,
        "priority": spec.priority,
    }


def _upsert(source: str, key: str, workflow: str, name: str, spec: ScheduleSpec) -> SyncReport:
    """Create or update a declared schedule. Whether it is paused is the operator's call once
    it exists, so only a new row takes `paused` from the declaration."""
    values = _values(workflow, name, spec)
    with transaction.atomic():
        existing = (
            Schedule.objects.select_for_update().filter(source=source, source_key=key).first()
        )
        if existing is None:
            try:
                with transaction.atomic():
                    save_schedule(
                        Schedule(source=source, source_key=key, paused=spec.paused, **values)
                    )
            except IntegrityError:
                return SyncReport()  # another process declared it at the same moment
            return SyncReport(created=1)
        changed = [field for field, value in values.items() if getattr(existing, field) != value]
        if not changed:
            return SyncReport()
        for field in changed:
            setattr(existing, field, values[field])
        save_schedule(existing, changed)
        return SyncReport(updated=1)


def sync_code_schedules() -> SyncReport:
    """Make the code schedules (`@workflow(schedule=...)`) rows; drop those no longer declared."""
    report = SyncReport()
    declared: list[str] = []
    for definition in all_workflows():
        for index, spec in enumerate(definition.schedules):
            key = definition.slug if index == 0 else f"{definition.slug}#{index + 1}"
            declared.append(key)
            name = spec.name or key
            report += _upsert(ScheduleSource.CODE, key, definition.slug, name, spec)
    stale = Schedule.objects.filter(source=ScheduleSource.CODE).exclude(source_key__in=declared)
    deleted = stale.delete()[1].get(Schedule._meta.label, 0)
    return report + SyncReport(deleted=deleted)


def _graph_spec(config: dict[str, Any]) -> ScheduleSpec:
    interval = config.get("interval")
    return ScheduleSpec(
        cron=str(config.get("cron") or ""),
        interval_seconds=max(1, round(interval)) if interval is not None else None,
        timezone=str(config.get("timezone") or "UTC"),
        input=config.get("input", {}),
        priority=config.get("priority", 0),
    )


def sync_graph_schedules(version: GraphVersion) -> SyncReport:
    """On publish: the version's `trigger.schedule` nodes become schedules; removed ones go."""
    slug = version.workflow
    report = SyncReport()
    keys: list[str] = []
    nodes = version.graph.get("nodes", []) if isinstance(version.graph, dict) else []
    for node in nodes:
        if node.get("type") != SCHEDULE_NODE:
            continue
        key = f"{slug}:{node['id']}"
        try:
            spec = _graph_spec(node.get("config") or {})
        except DefinitionError as error:
            # Publishing validates nodes first; a version that slipped through starts nothing.
            logger.error("%s v%s: schedule node %s ignored: %s", slug, version.number, key, error)
            continue
        keys.append(key)
        name = f"{version.title}: {node.get('label') or node['id']}"
        report += _upsert(ScheduleSource.GRAPH, key, slug, name, spec)
    stale = Schedule.objects.filter(
        source=ScheduleSource.GRAPH, source_key__startswith=f"{slug}:"
    ).exclude(source_key__in=keys)
    deleted = stale.delete()[1].get(Schedule._meta.label, 0)
    return report + SyncReport(deleted=deleted)


def delete_graph_schedules(slug: str) -> int:
    """A deleted graph workflow starts nothing any more: remove its schedules."""
    schedules = Schedule.objects.filter(
        source=ScheduleSource.GRAPH, source_key__startswith=f"{slug}:"
    )
    return schedules.delete()[1].get(Schedule._meta.label, 0)


def sync_declared_schedules() -> SyncReport:
    """Code schedules, and the schedules of every live graph's newest version (at start-up)."""
    report = sync_code_schedules()
    newest: dict[str, GraphVersion] = {}
    active = GraphVersion.objects.filter(retired=False, triggers_active=True)
    for version in active.order_by("workflow", "number"):
        newest[version.workflow] = version
    for version in newest.values():
        report += sync_graph_schedules(version)
    return report
