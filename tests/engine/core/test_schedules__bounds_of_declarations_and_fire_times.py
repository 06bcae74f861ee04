"""A code declaration has the admin's bounds (an interval up to 366 days, a start and end from
1900 to 8999); fire times that would lie past what a datetime holds are none, not an error."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from engine.core import cron, every
from engine.core.cron import next_fire_times, previous_fire_times
from engine.core.errors import DefinitionError

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_a_declaration_past_the_bounds_fails_when_declared() -> None:
    assert every(366).days.interval_seconds == 366 * 86400
    with pytest.raises(DefinitionError, match="at most 366 days"):
        every(367).days  # noqa: B018
    with pytest.raises(DefinitionError, match="start must be from 1900 to 8999"):
        cron("@daily", start=datetime(9999, 12, 31, tzinfo=UTC))
    with pytest.raises(DefinitionError, match="end must be from 1900 to 8999"):
        cron("@daily", end=datetime(1, 1, 1, tzinfo=UTC))


@dataclass
class Row:
    """A row saved before the bounds: what the timing protocol reads."""

    cron: str = ""
    interval_seconds: int | None = None
    timezone: str = "Europe/Berlin"
    start_at: datetime | None = None
    end_at: datetime | None = None


@pytest.mark.parametrize(
    "row",
    [
        Row(interval_seconds=9223372036854775807),
        Row(interval_seconds=1_000_000_000_000, start_at=NOW - timedelta(days=1)),
        Row(cron="* * * * *", start_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        Row(interval_seconds=60, start_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_fire_times_past_what_a_datetime_holds_are_none(row: Row) -> None:
    assert next_fire_times(row, NOW, 5) == []
    assert all(moment <= NOW for moment in previous_fire_times(row, NOW, 5))
