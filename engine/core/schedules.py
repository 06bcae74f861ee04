"""Schedules in plain Python: cron expressions, intervals and their fire times in a time zone,
and the `every` / `cron` declarations code workflows attach with `@workflow(schedule=...)`.

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
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.core.errors import DefinitionError

__all__ = [
    "CATCH_UP_POLICIES",
    "OVERLAP_POLICIES",
    "SHORTCUTS",
    "CronError",
    "CronExpression",
    "ScheduleSpec",
    "Timing",
    "cron",
    "describe",
    "every",
    "jitter_offset",
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
OVERLAP_POLICIES = ("skip", "buffer_one", "allow_all", "cancel_previous")
CATCH_UP_POLICIES = ("skip", "run_once", "run_all")
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
            in_months = _join([MONTH_NAMES[month - 1] for month in sorted(months)], "or")
            listed = _join([str(day) for day in sorted(days)], "or")
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
    if timing.interval_seconds:
        found = _interval_after(timing, lower, count)
    else:
        found = _cron_after(parse_cron(timing.cron), zone, lower, count, timing.end_at)
    end = timing.end_at
    return [moment.astimezone(zone) for moment in found if end is None or moment <= end][:count]


def previous_fire_times(timing: Timing, before: datetime, count: int = 1) -> list[datetime]:
    """The latest `count` nominal fire times at or before `before`, newest first."""
    zone = zone_of(timing.timezone)
    upper = before
    if timing.end_at is not None and timing.end_at < before:
        upper = timing.end_at
    if timing.interval_seconds:
        found = _interval_until(timing, upper, count)
    else:
        found = _cron_until(parse_cron(timing.cron), zone, upper, count, timing.start_at)
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


# --- describing a schedule to people --------------------------------------------------------


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _named(values: list[int], names: tuple[str, ...]) -> str:
    parts = []
    for first, last in _runs(values):
        if first == last:
            parts.append(names[first])
        elif last == first + 1:
            parts += [names[first], names[last]]
        else:
            parts.append(f"{names[first]} to {names[last]}")
    return _join(parts)


def _step(values: tuple[int, ...], low: int, high: int) -> int | None:
    """n when the values are exactly low, low+n, low+2n … up to high."""
    if len(values) < 2 or values[0] != low:
        return None
    step = values[1] - values[0]
    return step if values == tuple(range(low, high + 1, step)) else None


def _describe_time(expression: CronExpression) -> str | None:
    minutes, hours = expression.minutes, expression.hours
    every_hour = len(hours) == 24
    if every_hour and len(minutes) == 60:
        return "every minute"
    if every_hour and (step := _step(minutes, 0, 59)) is not None and 60 % step == 0:
        return f"every {step} minutes"
    if every_hour and len(minutes) <= 4:
        return "every hour at " + _join([f":{minute:02d}" for minute in minutes])
    if len(minutes) == 1 and (step := _step(hours, 0, 23)) is not None and 24 % step == 0:
        return f"every {step} hours at :{minutes[0]:02d}"
    if len(hours) * len(minutes) <= 4:
        return "at " + _join([f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes])
    return None


def _describe_days(expression: CronExpression) -> str | None:
    weekdays = sorted(expression.weekdays)
    on_weekdays = _named(weekdays, WEEKDAY_NAMES)
    if weekdays == [1, 2, 3, 4, 5]:
        on_weekdays = "Monday to Friday"
    on_days = "on day" + ("s " if len(expression.days) > 1 else " ")
    on_days += _join([str(day) for day in sorted(expression.days)]) + " of the month"
    if expression.days_restricted and expression.weekdays_restricted:
        days = f"{on_days} and every {on_weekdays}"
    elif expression.days_restricted:
        days = on_days
    elif expression.weekdays_restricted:
        if len(weekdays) == 7:
            days = "every day"
        else:
            days = on_weekdays if " to " in on_weekdays else f"every {on_weekdays}"
    else:
        days = "every day"
    if len(expression.months) < 12:
        days += " in " + _named(sorted(expression.months), ("", *MONTH_NAMES))
    return days


def describe(timing: Timing) -> str:
    """A schedule in words: "every day at 09:00", "every 15 minutes", "Monday to Friday at …"."""
    if timing.interval_seconds:
        return "every " + _duration(timing.interval_seconds)
    expression = parse_cron(timing.cron)
    when, days = _describe_time(expression), _describe_days(expression)
    if when is None or days is None:
        return f"cron {expression.fields}"
    if days == "every day":
        return when if when.startswith("every") else f"every day {when}"
    return f"{days}, {when}" if when.startswith("every") else f"{days} {when}"


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return "second" if seconds == 1 else f"{seconds} seconds"


# --- declaring schedules in code ------------------------------------------------------------


def _seconds(value: int | float | timedelta, what: str) -> int:
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise DefinitionError(f"{what} is a number of seconds (0 or more) or a timedelta")
    if seconds != int(seconds):
        raise DefinitionError(f"{what} is a whole number of seconds")
    return int(seconds)


@dataclass(frozen=True)
class ScheduleSpec:
    """When a workflow starts by itself: a cron expression or an interval, in a time zone.

    Declared in code with `every` or `cron`; checked when declared, so a bad schedule fails at
    import rather than at 09:00.
    """

    cron: str = ""
    interval_seconds: int | None = None
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter_seconds: int = 0
    input: Any = None
    overlap: str = "skip"
    catch_up: str = "run_once"
    catch_up_limit: int = 10
    paused: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if bool(self.cron) == bool(self.interval_seconds):
            raise DefinitionError("a schedule has either a cron expression or an interval")
        if self.cron:
            parse_cron(self.cron)
        elif not isinstance(self.interval_seconds, int) or self.interval_seconds < 1:
            raise DefinitionError("a schedule's interval is a whole number of seconds, 1 or more")
        zone_of(self.timezone)
        for what, moment in (("start", self.start_at), ("end", self.end_at)):
            if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
                raise DefinitionError(f"a schedule's {what} is an aware datetime")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise DefinitionError("a schedule's end comes after its start")
        if self.overlap not in OVERLAP_POLICIES:
            raise DefinitionError(f"overlap is one of {', '.join(OVERLAP_POLICIES)}")
        if self.catch_up not in CATCH_UP_POLICIES:
            raise DefinitionError(f"catch_up is one of {', '.join(CATCH_UP_POLICIES)}")
        if isinstance(self.catch_up_limit, bool) or not isinstance(self.catch_up_limit, int):
            raise DefinitionError("catch_up_limit is a whole number")
        if not 0 <= self.catch_up_limit <= 1000:
            raise DefinitionError("catch_up_limit is between 0 and 1000")
        try:
            json.dumps(self.input)
        except (TypeError, ValueError):
            raise DefinitionError("a schedule's input must be JSON (dicts, lists, …)") from None

    def options(
        self,
        *,
        timezone: str | None = None,
        input: Any = None,
        overlap: str | None = None,
        catch_up: str | None = None,
        catch_up_limit: int | None = None,
        jitter: int | float | timedelta | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        paused: bool | None = None,
        name: str | None = None,
    ) -> "ScheduleSpec":
        """The same schedule with other options: `every.hour.options(overlap="cancel_previous")`."""
        changes: dict[str, Any] = {
            "timezone": timezone,
            "input": input,
            "overlap": overlap,
            "catch_up": catch_up,
            "catch_up_limit": catch_up_limit,
            "jitter_seconds": None if jitter is None else _seconds(jitter, "jitter"),
            "start_at": start,
            "end_at": end,
            "paused": paused,
            "name": name,
        }
        return replace(self, **{key: value for key, value in changes.items() if value is not None})

    def at(self, clock: str, *, timezone: str | None = None, **options: Any) -> "ScheduleSpec":
        """At a time of day, "09:00" (daily and weekday schedules) or ":30" (every.hour)."""
        if not self.cron:
            raise DefinitionError("at() is for every.day, every.hour and the weekdays")
        fields = parse_cron(self.cron).fields.split(" ")
        hour_text, _, minute_text = clock.partition(":")
        if not minute_text.isdigit() or len(minute_text) != 2 or not 0 <= int(minute_text) <= 59:
            raise DefinitionError(f"at({clock!r}): write the time as HH:MM, minutes 00{_TO}59")
        if hour_text == "":
            if fields[1] != "*":
                raise DefinitionError(f"at({clock!r}): ':MM' is for every.hour")
            fields[0] = str(int(minute_text))
        else:
            if not hour_text.isdigit() or not 0 <= int(hour_text) <= 23:
                raise DefinitionError(f"at({clock!r}): the hour is 00{_TO}23")
            if not fields[1].isdigit():
                raise DefinitionError(f"at({clock!r}): for an hourly schedule write ':MM'")
            fields[0], fields[1] = str(int(minute_text)), str(int(hour_text))
        return replace(self, cron=" ".join(fields)).options(timezone=timezone, **options)


def cron(expression: str, *, timezone: str = "UTC", **options: Any) -> ScheduleSpec:
    """A cron schedule: `cron("0 9 * * 1-5", timezone="Europe/Berlin")`."""
    return ScheduleSpec(cron=" ".join(str(expression).split())).options(
        timezone=timezone, **options
    )


@dataclass(frozen=True)
class _EveryN:
    count: int

    def _interval(self, unit: int) -> ScheduleSpec:
        return ScheduleSpec(interval_seconds=self.count * unit)

    @property
    def seconds(self) -> ScheduleSpec:
        return self._interval(1)

    @property
    def minutes(self) -> ScheduleSpec:
        return self._interval(60)

    @property
    def hours(self) -> ScheduleSpec:
        return self._interval(3600)

    @property
    def days(self) -> ScheduleSpec:
        return self._interval(86400)


class _Every:
    """`every.day.at("09:00")`, `every.hour`, `every(15).minutes`, `every.monday.at("08:30")`."""

    def __call__(self, count: int) -> _EveryN:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise DefinitionError("every(n) takes a whole number, 1 or more")
        return _EveryN(count)

    @property
    def minute(self) -> ScheduleSpec:
        return ScheduleSpec(cron="* * * * *")

    @property
    def hour(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 * * * *")

    @property
    def day(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * *")

    @property
    def weekday(self) -> ScheduleSpec:
        """Monday to Friday."""
        return ScheduleSpec(cron="0 0 * * 1-5")

    @property
    def monday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 1")

    @property
    def tuesday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 2")

    @property
    def wednesday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 3")

    @property
    def thursday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 4")

    @property
    def friday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 5")

    @property
    def saturday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 6")

    @property
    def sunday(self) -> ScheduleSpec:
        return ScheduleSpec(cron="0 0 * * 0")


every = _Every()
