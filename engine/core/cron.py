"""Cron maths in plain Python: parsing five-field cron, fire times of cron expressions and
intervals in a time zone, and the jitter that spreads them.

Cron is classic five-field cron, evaluated on the wall clock of the schedule's time zone. When
the clock changes for daylight saving, a time at a named hour that the clock skips fires once, at
the first moment after the jump, and a time the clock repeats fires once, on its first pass.
Schedules whose hour field is `*` follow the clock as it is: nothing fires in the skipped hour
and both passes of a repeated hour fire, since each is a real hour.

Intervals count elapsed time from their start (or from 1970-01-01 UTC, so `every(15).minutes`
lands on :00, :15, :30 and :45), whatever the clock shows.
"""

import calendar
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.core.errors import DefinitionError

__all__ = [
    "MONTH_NAMES",
    "SHORTCUTS",
    "WEEKDAY_NAMES",
    "CronError",
    "CronExpression",
    "Timing",
    "jitter_offset",
    "join_words",
    "next_fire_times",
    "parse_cron",
    "previous_fire_times",
    "zone_of",
]

SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_NAMES = tuple(calendar.month_name[1:])
WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# No time zone moves its clock by more than this at once; fire times near a change are looked
# at this far on either side.
_TRANSITION_REACH = timedelta(hours=3)
# Ranges in messages are written with an en dash ("0 to 59" typeset), named to keep ASCII.
_TO = "\N{EN DASH}"
# A day-of-month/month combination that exists at all occurs within eight years (29 February).
_MAX_DAYS_SEARCHED = 366 * 9


class CronError(DefinitionError):
    """A cron expression that cannot be used; the message names the field and what is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field} field: {message}" if field else message)
        self.field = field


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_named: int = 0

    def value(self, text: str, part: str) -> int:
        if text.isdigit():
            number = int(text)
            if not self.low <= number <= self.high:
                raise CronError(f"{number} is out of range {self.low}{_TO}{self.high}", self.name)
            return number
        if self.names and text.lower() in self.names:
            return self.names.index(text.lower()) + self.first_named
        if not text:
            raise CronError(f"a number is missing in {part!r}", self.name)
        hint = f" or a name ({self.names[0]}{_TO}{self.names[-1]})" if self.names else ""
        raise CronError(f"{text!r} is not a number{hint}", self.name)

    def parse(self, text: str) -> frozenset[int]:
        allowed = set("0123456789*-/,") | (
            set("abcdefghijklmnopqrstuvwxyz") if self.names else set()
        )
        for character in text:
            if character.lower() not in allowed:
                names = ", names" if self.names else ""
                raise CronError(
                    f"{character!r} is not supported: use numbers{names}, *, -, / and ,",
                    self.name,
                )
        values: set[int] = set()
        for part in text.split(","):
            if not part:
                raise CronError(f"an empty item in the list {text!r}", self.name)
            values |= self._parse_part(part)
        return frozenset(values)

    def _parse_part(self, part: str) -> set[int]:
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit():
                raise CronError(f"the step in {part!r} is not a whole number", self.name)
            step = int(step_text)
            if step == 0:
                raise CronError(f"the step in {part!r} is 0; use 1 or more", self.name)
        if base == "*":
            low, high = self.low, self.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = self.value(first, part), self.value(last, part)
            if low > high:
                raise CronError(
                    f"the range {base} runs backwards; write {first}-{self.high},{self.low}-{last}",
                    self.name,
                )
        else:
            low = self.value(base, part)
            high = self.high if slash else low
        return set(range(low, high + 1, step))


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS, first_named=1),
    # 0 and 7 are both Sunday, as in every cron.
    _Field("day-of-week", 0, 7, WEEKDAYS),
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression: the values each of its five fields allows."""

    text: str
    fields: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    # Classic cron: when both day fields are restricted, a day matching either one runs.
    days_restricted: bool
    weekdays_restricted: bool

    @property
    def follows_clock(self) -> bool:
        """Every hour runs, so daylight saving changes are taken as the clock shows them."""
        return len(self.hours) == 24

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_date or by_weekday
        return by_date and by_weekday

    def walls_after(self, start: datetime) -> Iterator[datetime]:
        """Naive wall-clock times the expression matches, strictly after `start`, in order."""
        day = start.date()
        for _ in range(_MAX_DAYS_SEARCHED):
            if self.day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        wall = datetime.combine(day, time(hour, minute))
                        if wall > start:
                            yield wall
            try:
                day += timedelta(days=1)
            except OverflowError:
                return

    def walls_until(self, end: datetime) -> Iterator[datetime]:
        """Naive wall-clock times the expression matches, at or before `end`, newest first."""
        day = end.date()
        for _ in range(_MAX_DAYS_SEARCHED):
            if self.day_matches(day):
                for hour in reversed(self.hours):
                    for minute in reversed(self.minutes):
                        wall = datetime.combine(day, time(hour, minute))
                        if wall <= end:
                            yield wall
            try:
                day -= timedelta(days=1)
            except OverflowError:
                return


def parse_cron(text: str) -> CronExpression:
    """Parse five cron fields or a shortcut (@daily …); a CronError says what is wrong."""
    if not isinstance(text, str):
        raise CronError("a cron expression is text, such as '0 9 * * 1-5'")
    if not text.strip():
        raise CronError("the cron expression is empty")
    written = " ".join(text.split())
    fields_text = written
    if written.startswith("@"):
        shortcut = written.lower()
        if shortcut not in SHORTCUTS:
            known = ", ".join(SHORTCUTS)
            raise CronError(f"unknown shortcut {written!r}; use one of {known}")
        fields_text = SHORTCUTS[shortcut]
    parts = fields_text.split(" ")
    if len(parts) != 5:
        raise CronError(
            "expected 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)} in {written!r}"
        )
    minutes, hours, days, months, weekdays = (
        field.parse(part) for field, part in zip(_FIELDS, parts, strict=True)
    )
    weekdays = frozenset(day % 7 for day in weekdays)
    expression = CronExpression(
        text=written,
        fields=fields_text,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=days,
        months=months,
        weekdays=weekdays,
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    if not expression.weekdays_restricted:
        possible = [
            month for month in months if any(day <= _DAYS_IN_MONTH[month - 1] for day in days)
        ]
        if not possible:
            in_months = join_words([MONTH_NAMES[month - 1] for month in sorted(months)], "or")
            listed = join_words([str(day) for day in sorted(days)], "or")
            raise CronError(
                f"{in_months} never has day {listed}, so the schedule would never fire",
                "day-of-month",
            )
    return expression


class Timing(Protocol):
    """What fire times depend on: a Schedule row and a ScheduleSpec both provide it."""

    @property
    def cron(self) -> str: ...

    @property
    def interval_seconds(self) -> int | None: ...

    @property
    def timezone(self) -> str: ...

    @property
    def start_at(self) -> datetime | None: ...

    @property
    def end_at(self) -> datetime | None: ...


def zone_of(name: str) -> ZoneInfo:
    """The named IANA time zone; a DefinitionError names an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DefinitionError(f"unknown time zone {name!r}") from None


def next_fire_times(timing: Timing, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` nominal fire times strictly after `after`, in the schedule's zone."""
    zone = zone_of(timing.timezone)
    lower = after
    if timing.start_at is not None and timing.start_at > after:
        lower = timing.start_at - timedelta(microseconds=1)
    try:
        if timing.interval_seconds:
            found = _interval_after(timing, lower, count)
        else:
            found = _cron_after(parse_cron(timing.cron), zone, lower, count, timing.end_at)
    except OverflowError:
        # Saved before starts and intervals were bounded: its fire times lie past what a
        # datetime holds, so it has none that can be computed.
        return []
    end = timing.end_at
    return [moment.astimezone(zone) for moment in found if end is None or moment <= end][:count]


def previous_fire_times(timing: Timing, before: datetime, count: int = 1) -> list[datetime]:
    """The latest `count` nominal fire times at or before `before`, newest first."""
    zone = zone_of(timing.timezone)
    upper = before
    if timing.end_at is not None and timing.end_at < before:
        upper = timing.end_at
    try:
        if timing.interval_seconds:
            found = _interval_until(timing, upper, count)
        else:
            found = _cron_until(parse_cron(timing.cron), zone, upper, count, timing.start_at)
    except OverflowError:
        return []  # as in next_fire_times
    start = timing.start_at
    return [moment.astimezone(zone) for moment in found if start is None or moment >= start][:count]


def jitter_offset(key: str, nominal: datetime, jitter_seconds: int) -> timedelta:
    """A delay of 0 to jitter_seconds, the same for the same key and nominal time everywhere."""
    if jitter_seconds <= 0:
        return timedelta(0)
    seed = f"{key}|{nominal.astimezone(UTC).isoformat()}".encode()
    number = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big")
    return timedelta(seconds=number % (jitter_seconds + 1))


def _interval_after(timing: Timing, lower: datetime, count: int) -> list[datetime]:
    anchor = timing.start_at or EPOCH
    step = timedelta(seconds=timing.interval_seconds or 0)
    index = max(0, (lower - anchor) // step + 1)
    return [anchor + step * (index + n) for n in range(count)]


def _interval_until(timing: Timing, upper: datetime, count: int) -> list[datetime]:
    anchor = timing.start_at or EPOCH
    step = timedelta(seconds=timing.interval_seconds or 0)
    index = (upper - anchor) // step
    return [anchor + step * (index - n) for n in range(count) if index - n >= 0]


def _transition_near(zone: ZoneInfo, moment: datetime) -> bool:
    return (moment - _TRANSITION_REACH).astimezone(zone).utcoffset() != (
        moment + _TRANSITION_REACH
    ).astimezone(zone).utcoffset()


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _cron_after(
    expression: CronExpression,
    zone: ZoneInfo,
    lower: datetime,
    count: int,
    end: datetime | None,
) -> list[datetime]:
    # Mapped to instants, wall times keep their order except within a few hours of a clock
    # change, so the search starts earlier and stops later there.
    start = _wall(lower, zone)
    if _transition_near(zone, lower):
        start -= _TRANSITION_REACH
    stop_after = _wall(end, zone) + _TRANSITION_REACH if end is not None else None
    found: set[datetime] = set()
    enough_at: datetime | None = None
    for wall in expression.walls_after(start):
        if enough_at is not None and wall > enough_at:
            break
        if stop_after is not None and wall > stop_after:
            break
        for instant in _instants(wall, zone, expression.follows_clock):
            if instant > lower:
                found.add(instant)
        if enough_at is None and len(found) >= count:
            last = sorted(found)[count - 1]
            margin = _TRANSITION_REACH if _transition_near(zone, last) else timedelta(0)
            enough_at = _wall(last, zone) + margin
    return sorted(found)[:count]


def _cron_until(
    expression: CronExpression,
    zone: ZoneInfo,
    upper: datetime,
    count: int,
    start: datetime | None,
) -> list[datetime]:
    end = _wall(upper, zone)
    if _transition_near(zone, upper):
        end += _TRANSITION_REACH
    stop_before = _wall(start, zone) - _TRANSITION_REACH if start is not None else None
    found: set[datetime] = set()
    enough_at: datetime | None = None
    for wall in expression.walls_until(end):
        if enough_at is not None and wall < enough_at:
            break
        if stop_before is not None and wall < stop_before:
            break
        for instant in _instants(wall, zone, expression.follows_clock):
            if instant <= upper:
                found.add(instant)
        if enough_at is None and len(found) >= count:
            last = sorted(found, reverse=True)[count - 1]
            margin = _TRANSITION_REACH if _transition_near(zone, last) else timedelta(0)
            enough_at = _wall(last, zone) - margin
    return sorted(found, reverse=True)[:count]


def _instants(wall: datetime, zone: ZoneInfo, follows_clock: bool) -> list[datetime]:
    """The moments (UTC) a wall-clock time of the zone fires at: usually one."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    assert before is not None
    assert after is not None
    if before == after:
        return [first.astimezone(UTC)]
    if before > after:
        # The clock went back: this wall time happens twice.
        if follows_clock:
            return [first.astimezone(UTC), second.astimezone(UTC)]
        return [first.astimezone(UTC)]
    # The clock jumped forward over this wall time.
    if follows_clock:
        return []
    return [_jump(wall, zone, before, after)]


def _jump(wall: datetime, zone: ZoneInfo, before: timedelta, after: timedelta) -> datetime:
    """The moment the clock jumped over `wall`: the first valid moment after it."""
    low = int((wall - after).replace(tzinfo=UTC).timestamp())  # still the old offset
    high = int((wall - before).replace(tzinfo=UTC).timestamp())  # already the new one
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def join_words(items: list[str], word: str = "and") -> str:
    """ "a, b and c": items as a sentence lists them."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
