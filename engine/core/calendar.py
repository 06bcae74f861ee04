"""Business hours: a task's timeout counted in working time (time zone, days, hours, holidays).

    {"timezone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"],
     "start": "09:00", "end": "17:00", "holidays": ["2026-12-24", "2026-12-25"]}

"8h" on such a calendar from Friday 15:00 ends on Monday 15:00. Daylight-saving changes are
counted as the clock on the wall sees them: a working day from 09:00 to 17:00 is eight hours.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOLIDAYS = 400
# A calendar that leaves no working time would walk forever: ten years is plenty.
MAX_DAYS = 3660


class CalendarError(ValueError):
    """A calendar that cannot be used; `field` names the part (timezone, days, start, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BusinessCalendar:
    zone: str
    days: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date]

    def add(self, moment: datetime, seconds: float) -> datetime:
        """The moment `seconds` of working time after `moment` (an aware datetime)."""
        left = timedelta(seconds=max(seconds, 0.0))
        zone = ZoneInfo(self.zone)
        current = moment.astimezone(UTC)
        day = current.astimezone(zone).date()
        for _ in range(MAX_DAYS):
            if day.weekday() in self.days and day not in self.holidays:
                opens = datetime.combine(day, self.start, zone).astimezone(UTC)
                closes = datetime.combine(day, self.end, zone).astimezone(UTC)
                begin = max(current, opens)
                if begin < closes:
                    if begin + left <= closes:
                        return begin + left
                    left -= closes - begin
            day += timedelta(days=1)
        raise CalendarError("days", "the calendar leaves no working time")

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.zone,
            "days": [DAY_NAMES[day] for day in sorted(self.days)],
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "holidays": [holiday.isoformat() for holiday in sorted(self.holidays)],
        }


def business_calendar(config: Any) -> BusinessCalendar:
    """A calendar from its JSON form; a CalendarError names the part that is wrong."""
    if isinstance(config, BusinessCalendar):
        return config
    if not isinstance(config, dict):
        raise CalendarError("calendar", "an object with timezone, days, start, end, holidays")
    unknown = sorted(set(config) - {"timezone", "days", "start", "end", "holidays"})
    if unknown:
        raise CalendarError(unknown[0], "not part of a calendar")
    zone = config.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            "timezone", f"{zone!r} is not a time zone such as Europe/Berlin"
        ) from None
    names = config.get("days", DAY_NAMES[:5])
    if isinstance(names, str) or not names or any(name not in DAY_NAMES for name in names):
        raise CalendarError("days", f"some of {', '.join(DAY_NAMES)}")
    start, end = (
        _time(config.get("start", "09:00"), "start"),
        _time(config.get("end", "17:00"), "end"),
    )
    if end <= start:
        raise CalendarError("end", "the working day ends after it starts")
    holidays = config.get("holidays", [])
    if isinstance(holidays, str) or len(holidays) > MAX_HOLIDAYS:
        raise CalendarError("holidays", f"a list of at most {MAX_HOLIDAYS} dates")
    days_off = set()
    for index, holiday in enumerate(holidays):
        try:
            days_off.add(date.fromisoformat(str(holiday)))
        except ValueError:
            raise CalendarError(f"holidays[{index}]", "a date such as 2026-12-25") from None
    return BusinessCalendar(
        str(zone),
        frozenset(DAY_NAMES.index(name) for name in names),
        start,
        end,
        frozenset(days_off),
    )


def calendar_problems(config: Any) -> list[tuple[str, str]]:
    """(part, message) for a calendar that cannot be used; [] for a good one or none."""
    if config in (None, {}):
        return []
    try:
        business_calendar(config)
    except CalendarError as wrong:
        return [(wrong.field, wrong.message)]
    return []


def _time(value: Any, field: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(field, f"{value!r} is not a time such as 09:00") from None
