"""A business calendar counts a timeout in working time: days, hours, holidays, time zone and
daylight saving; a wrong calendar names its wrong part."""

from datetime import UTC, datetime

import pytest

from engine.core.calendar import CalendarError, business_calendar, calendar_problems

BERLIN = {
    "timezone": "Europe/Berlin",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "17:00",
    "holidays": ["2026-12-24", "2026-12-25"],
}


def berlin(*parts: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*parts, tzinfo=ZoneInfo("Europe/Berlin"))


def test_eight_hours_from_friday_afternoon_end_on_monday_afternoon() -> None:
    calendar = business_calendar(BERLIN)
    assert calendar.add(berlin(2026, 11, 27, 15, 0), 8 * 3600) == berlin(2026, 11, 30, 15, 0)


def test_time_before_opening_starts_at_opening_and_holidays_are_skipped() -> None:
    calendar = business_calendar(BERLIN)
    assert calendar.add(berlin(2026, 12, 1, 6, 0), 3600) == berlin(2026, 12, 1, 10, 0)
    # Wednesday 23rd at 16:00 + 2 h: one hour that day, then 24th, 25th (holidays) and the
    # weekend are skipped, the other hour is on Monday the 28th.
    assert calendar.add(berlin(2026, 12, 23, 16, 0), 2 * 3600) == berlin(2026, 12, 28, 10, 0)


def test_a_working_day_across_a_clock_change_is_as_long_as_the_wall_says() -> None:
    every_day = {**BERLIN, "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    calendar = business_calendar(every_day)
    # 29 March 2026: clocks go forward at 02:00; 09:00-17:00 is still eight hours.
    start = berlin(2026, 3, 28, 17, 0)
    assert calendar.add(start, 8 * 3600) == berlin(2026, 3, 29, 17, 0)
    assert calendar.add(datetime(2026, 3, 29, 8, 0, tzinfo=UTC), 0) == berlin(2026, 3, 29, 10, 0)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"days": ["monday"]}, "days"),
        ({"start": "9am"}, "start"),
        ({"start": "17:00", "end": "09:00"}, "end"),
        ({"holidays": ["soon"]}, "holidays[0]"),
        ({"weekends": True}, "weekends"),
    ],
)
def test_a_wrong_calendar_names_its_part(config: dict, field: str) -> None:
    with pytest.raises(CalendarError) as wrong:
        business_calendar(config)
    assert wrong.value.field == field
    assert calendar_problems(config)[0][0] == field
