"""Each workflow cap's usage: runs moving of its limit (per key) and runs held back.

The monitor's caps section and the admin's cap list both read it here, each for a whole page
in a fixed number of queries.
"""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from engine.models import TERMINAL_STATUSES, Run, WorkflowCap
from engine.resilience.priorities import ADMITTED, HELD

KEYS_SHOWN = 10


@dataclass(frozen=True)
class KeyUsage:
    """One value of the cap's key (or "" for a cap without one)."""

    key: str
    running: int
    held: int
    limit: int

    @property
    def full(self) -> bool:
        return self.running >= self.limit

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.running / self.limit))


@dataclass(frozen=True)
class CapUsage:
    workflow: str
    max_active: int
    key_field: str
    source: str
    keys: list[KeyUsage]
    """The busiest keys, most running first (at most KEYS_SHOWN)."""
    more_keys: int
    running: int
    held: int


def _unfinished() -> QuerySet[Run]:
    """Runs that count against a cap: admitted or held, and not yet ended."""
    return Run.objects.filter(admission__in=[ADMITTED, HELD]).exclude(status__in=TERMINAL_STATUSES)


def cap_usage() -> list[CapUsage]:
    """Every cap with its usage, in two queries whatever the number of caps and keys."""
    caps = list(WorkflowCap.objects.order_by("workflow"))
    counted = (
        _unfinished()
        .filter(workflow__in=[cap.workflow for cap in caps])
        .values_list("workflow", "concurrency_key")
        .annotate(
            running=Count("pk", filter=Q(admission=ADMITTED)),
            held=Count("pk", filter=Q(admission=HELD)),
        )
    )
    by_workflow: dict[str, list[tuple[str, int, int]]] = {}
    for workflow, key, running, held in counted:
        by_workflow.setdefault(workflow, []).append((key, running, held))
    usages = []
    for cap in caps:
        entries = by_workflow.get(cap.workflow, [])
        keys = sorted(
            (KeyUsage(key, running, held, cap.max_active) for key, running, held in entries),
            key=lambda usage: (-usage.running, -usage.held, usage.key),
        )
        usages.append(
            CapUsage(
                workflow=cap.workflow,
                max_active=cap.max_active,
                key_field=cap.key_field,
                source=cap.get_source_display(),
                keys=keys[:KEYS_SHOWN],
                more_keys=max(0, len(keys) - KEYS_SHOWN),
                running=sum(usage.running for usage in keys),
                held=sum(usage.held for usage in keys),
            )
        )
    return usages


def _count_of(admission: str) -> Coalesce:
    runs = (
        _unfinished()
        .filter(workflow=OuterRef("workflow"), admission=admission)
        .order_by()
        .values("workflow")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(runs, output_field=IntegerField()), Value(0))


def with_usage(caps: QuerySet[WorkflowCap]) -> QuerySet[WorkflowCap]:
    """The caps, each with `runs_moving` and `runs_held` (all keys together), counted in the
    caps' own query: a page of caps costs one query, not one per cap."""
    return caps.annotate(runs_moving=_count_of(ADMITTED), runs_held=_count_of(HELD))
