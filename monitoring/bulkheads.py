"""Each bulkhead's usage for the monitor: slots in use, steps waiting, the oldest waiter."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from engine.models import Bulkhead, SlotState


@dataclass(frozen=True)
class BulkheadUsage:
    name: str
    max_concurrent: int
    source: str
    in_flight: int
    waiting: int
    oldest_waiter: datetime | None

    @property
    def full(self) -> bool:
        return self.in_flight >= self.max_concurrent

    @property
    def waited_seconds(self) -> float | None:
        if self.oldest_waiter is None:
            return None
        return max(0.0, (timezone.now() - self.oldest_waiter).total_seconds())


def bulkhead_usage() -> list[BulkheadUsage]:
    """Every bulkhead, in one query; a lapsed slot (its worker died) is not in flight."""
    now = timezone.now()
    rows = Bulkhead.objects.annotate(
        in_flight=Count(
            "slots", filter=Q(slots__state=SlotState.HOLDING, slots__lease_until__gte=now)
        ),
        waiting=Count("slots", filter=Q(slots__state=SlotState.WAITING)),
        oldest_waiter=Min("slots__queued_at", filter=Q(slots__state=SlotState.WAITING)),
    ).order_by("name")
    return [
        BulkheadUsage(
            name=row.name,
            max_concurrent=row.max_concurrent,
            source=row.get_source_display(),
            in_flight=row.in_flight,
            waiting=row.waiting,
            oldest_waiter=row.oldest_waiter,
        )
        for row in rows
    ]


def bulkheads_context() -> dict[str, object]:
    """What templates/monitoring/resilience_bulkheads.html renders."""
    return {"bulkheads": bulkhead_usage()}
