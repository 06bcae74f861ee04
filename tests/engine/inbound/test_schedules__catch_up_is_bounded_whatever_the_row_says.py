"""A schedule row whose catch-up limit is past the bound (saved before the admin refused it, or
written in SQL) still fires in bounded time: the sweeper reads the limit held to 0..1000, so a
fire after long downtime computes and records at most 1,000 + 100 fire times."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from engine.core.schedules import MAX_CATCH_UP_LIMIT
from engine.inbound.schedules import (
    MISSED_RECORDED,
    catch_up_limit,
    fire_due_schedules,
    save_schedule,
)
from engine.models import Schedule, ScheduleFire

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
# Fits PostgreSQL's integer column; unbounded, one fire would count through two billion times.
HUGE = 2_000_000_000


def test_the_limit_read_from_a_row_is_held_to_the_bound() -> None:
    assert catch_up_limit(Schedule(catch_up_limit=HUGE)) == MAX_CATCH_UP_LIMIT
    assert catch_up_limit(Schedule(catch_up_limit=-5)) == 0
    assert catch_up_limit(Schedule(catch_up_limit=7)) == 7


def test_a_fire_after_downtime_with_a_huge_limit_records_a_bounded_number_of_fires(
    caplog: pytest.LogCaptureFixture,
) -> None:
    schedule = save_schedule(
        Schedule(
            name="every minute",
            workflow="test-sequence",
            interval_seconds=60,
            input={"steps": 1},
            catch_up="skip",
        )
    )
    # Three days down: 4,320 missed fires, more than the bound lets one fire look at.
    Schedule.objects.filter(pk=schedule.pk).update(
        catch_up_limit=HUGE, next_fire_at=NOW - timedelta(days=3)
    )
    with caplog.at_level(logging.WARNING, logger="engine.inbound.schedules"):
        recorded = fire_due_schedules(now=NOW + timedelta(seconds=5))
    assert recorded == MAX_CATCH_UP_LIMIT + MISSED_RECORDED
    fires = ScheduleFire.objects.filter(schedule=schedule)
    assert fires.count() == MAX_CATCH_UP_LIMIT + MISSED_RECORDED
    newest = fires.order_by("-scheduled_for").first()
    assert newest is not None and newest.scheduled_for == NOW
    assert "missed more than 1100 fires" in caplog.text
    schedule.refresh_from_db()
    assert schedule.next_fire_at == NOW + timedelta(minutes=1)
