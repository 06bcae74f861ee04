"""Schedules declared in code: `every` and `cron` for `@workflow(schedule=...)`, their overlap
and catch-up policies, and schedules described in words. The cron maths is in engine.core.cron.
"""

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.cron import (
    MONTH_NAMES,
    WEEKDAY_NAMES,
    CronExpression,
    Timing,
    join_words,
    parse_cron,
    zone_of,
)
from engine.core.errors import DefinitionError
from engine.core.priority import priority_problem
from engine.core.values import JSON

__all__ = [
    "CATCH_UP_POLICIES",
    "EARLIEST_MOMENT",
    "LATEST_MOMENT",
    "MAX_CATCH_UP_LIMIT",
    "MAX_INTERVAL_SECONDS",
    "OVERLAP_POLICIES",
    "ScheduleSpec",
    "cron",
    "describe",
    "every",
]


OVERLAP_POLICIES = ("skip", "buffer_one", "allow_all", "cancel_previous")
CATCH_UP_POLICIES = ("skip", "run_once", "run_all")
# The most missed fires "run each" runs. A fire's catch-up computes this many fire times (and
# a hundred more to record), so the bound is what keeps one fire cheap for the timer loop.
MAX_CATCH_UP_LIMIT = 1000
# An interval of up to a leap year, and starts and ends well inside what a datetime holds: fire
# times are computed by adding intervals and daylight-saving margins to these, and past them
# Python's datetime overflows (a 500 on the schedule's own page).
MAX_INTERVAL_SECONDS = 366 * 86400
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)


def interval_problem(seconds: int) -> str | None:
    """Why `seconds` is not an interval the scheduler fires, or None."""
    if seconds > MAX_INTERVAL_SECONDS:
        return f"the interval is at most 366 days ({MAX_INTERVAL_SECONDS} seconds)"
    return None


def moment_problem(moment: datetime) -> str | None:
    """Why an aware start or end is out of the range fire times are computed in, or None."""
    if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
        return f"must be from {EARLIEST_MOMENT.year} to {LATEST_MOMENT.year - 1}"
    return None


# Ranges in messages are written with an en dash ("0 to 59" typeset), named to keep ASCII.
_TO = "\N{EN DASH}"


# --- describing a schedule to people --------------------------------------------------------


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
    return join_words(parts)


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
        return "every hour at " + join_words([f":{minute:02d}" for minute in minutes])
    if len(minutes) == 1 and (step := _step(hours, 0, 23)) is not None and 24 % step == 0:
        return f"every {step} hours at :{minutes[0]:02d}"
    if len(hours) * len(minutes) <= 4:
        return "at " + join_words(
            [f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes]
        )
    return None


def _describe_days(expression: CronExpression) -> str | None:
    weekdays = sorted(expression.weekdays)
    on_weekdays = _named(weekdays, WEEKDAY_NAMES)
    if weekdays == [1, 2, 3, 4, 5]:
        on_weekdays = "Monday to Friday"
    on_days = "on day" + ("s " if len(expression.days) > 1 else " ")
    on_days += join_words([str(day) for day in sorted(expression.days)]) + " of the month"
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
    input: JSON = None
    overlap: str = "skip"
    catch_up: str = "run_once"
    catch_up_limit: int = 10
    paused: bool = False
    name: str = ""
    priority: int = 0
    """The priority of the runs it starts (engine.core.priority)."""

    def __post_init__(self) -> None:
        if bool(self.cron) == bool(self.interval_seconds):
            raise DefinitionError("a schedule has either a cron expression or an interval")
        if self.cron:
            parse_cron(self.cron)
        elif not isinstance(self.interval_seconds, int) or self.interval_seconds < 1:
            raise DefinitionError("a schedule's interval is a whole number of seconds, 1 or more")
        elif (problem := interval_problem(self.interval_seconds)) is not None:
            raise DefinitionError(f"a schedule's interval: {problem}")
        zone_of(self.timezone)
        for what, moment in (("start", self.start_at), ("end", self.end_at)):
            if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
                raise DefinitionError(f"a schedule's {what} is an aware datetime")
            if moment is not None and (problem := moment_problem(moment)) is not None:
                raise DefinitionError(f"a schedule's {what} {problem}")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise DefinitionError("a schedule's end comes after its start")
        if self.overlap not in OVERLAP_POLICIES:
            raise DefinitionError(f"overlap is one of {', '.join(OVERLAP_POLICIES)}")
        if self.catch_up not in CATCH_UP_POLICIES:
            raise DefinitionError(f"catch_up is one of {', '.join(CATCH_UP_POLICIES)}")
        if isinstance(self.catch_up_limit, bool) or not isinstance(self.catch_up_limit, int):
            raise DefinitionError("catch_up_limit is a whole number")
        if not 0 <= self.catch_up_limit <= MAX_CATCH_UP_LIMIT:
            raise DefinitionError(f"catch_up_limit is between 0 and {MAX_CATCH_UP_LIMIT}")
        try:
            json.dumps(self.input)
        except (TypeError, ValueError):
            raise DefinitionError("a schedule's input must be JSON (dicts, lists, …)") from None
        if (problem := priority_problem(self.priority)) is not None:
            raise DefinitionError(f"a schedule's priority {problem}")

    def options(
        self,
        *,
        timezone: str | None = None,
        input: JSON = None,
        overlap: str | None = None,
        catch_up: str | None = None,
        catch_up_limit: int | None = None,
        jitter: int | float | timedelta | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        paused: bool | None = None,
        name: str | None = None,
        priority: int | None = None,
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
            "priority": priority,
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
