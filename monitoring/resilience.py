"""What the resilience page shows: each breaker's state and each rate limit's busiest keys."""

from dataclasses import dataclass
from datetime import UTC, datetime

from engine.resilience.breakers import BreakerStatus, all_breakers
from engine.resilience.rate_limits import LimiterUsage, all_rate_limits

STATE_LABELS = {"closed": "Closed", "open": "Open", "half_open": "Half-open"}


@dataclass(frozen=True)
class BreakerRow:
    status: BreakerStatus
    label: str
    opened_at: datetime | None
    open_until: datetime | None


@dataclass(frozen=True)
class LimiterRow:
    usage: LimiterUsage
    busiest: list[tuple[str, int, int]]
    """(key, calls counted, percent of the limit) of the busiest keys."""


def _moment(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def breaker_rows() -> list[BreakerRow]:
    return [
        BreakerRow(
            status=status,
            label=STATE_LABELS.get(status.status, status.status),
            opened_at=_moment(status.opened_at),
            open_until=_moment(status.open_until),
        )
        for status in all_breakers()
    ]


def limiter_rows() -> list[LimiterRow]:
    return [
        LimiterRow(
            usage=usage,
            busiest=[(key, used, round(100 * used / usage.limit)) for key, used in usage.keys],
        )
        for usage in all_rate_limits()
    ]
