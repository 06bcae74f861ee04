"""Durations as people write them in graphs and machines: seconds, or `90s`, `15m`, `48h`, `7d`."""

import math
import re
from datetime import datetime, timedelta
from typing import Any

from engine.core.errors import DefinitionError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
# The schemas' text form admits a sign, so that "-5d" is named by its bound ("must be at least
# 0"), as -5 is, not by a pattern nobody reads; parse_duration still refuses it.
SIGNED_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")

MAX_DURATION_SECONDS = 365 * 86_400
"""The longest duration a graph node may wait or allow: a year, as for the run timeout."""
TOO_LONG = "must be at most 365 days (31536000 seconds)"

DURATION_KEYWORD = "x-duration"
"""A config schema keyword checked by the graph validator: the value's bounds in seconds
(`minimum`, or `exclusiveMinimum` for a timeout that cannot be 0, and `maximum`), whether it
is written as seconds or as text such as `7d`, which a JSON Schema pattern cannot bound."""

DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": SIGNED_DURATION.pattern},
    ],
    DURATION_KEYWORD: {"minimum": 0, "maximum": MAX_DURATION_SECONDS},
    "description": "Seconds, or text such as 90s, 15m, 48h, 7d (at most 365 days).",
}

TIMEOUT_SCHEMA = {
    **DURATION_SCHEMA,
    DURATION_KEYWORD: {"exclusiveMinimum": 0, "maximum": MAX_DURATION_SECONDS},
    "description": "Seconds, or text such as 90s, 15m, 48h, 7d (more than 0, at most 365 days).",
}
"""A duration after which something gives up or acts: 0 would fire at once, so it is refused."""


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text duration such as `90s`, `15m`, `48h`, `7d`."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration (seconds, or 90s, 15m, 48h, 7d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def duration_bound_problem(value: Any, bounds: dict[str, Any]) -> str | None:
    """Why a duration breaks its `x-duration` bounds, or None (also for a value that is not a
    duration at all: the schema's own alternatives report that)."""
    if isinstance(value, str):
        match = SIGNED_DURATION.match(value)
        if match is None:
            return None
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    elif isinstance(value, int | float) and not isinstance(value, bool) and not value < 0:
        seconds = float(value)
    else:
        return None  # a negative number: the schema's own `minimum` names it
    if "minimum" in bounds and not seconds >= bounds["minimum"]:
        return f"must be at least {bounds['minimum']:g}"
    if "exclusiveMinimum" in bounds and not seconds > bounds["exclusiveMinimum"]:
        return f"must be more than {bounds['exclusiveMinimum']:g}"
    # NaN and infinity fail this too.
    if "maximum" in bounds and not seconds <= bounds["maximum"]:
        return TOO_LONG if bounds["maximum"] == MAX_DURATION_SECONDS else "is too long"
    return None


def later(moment: datetime, seconds: float, what: str) -> datetime:
    """`moment` plus `seconds`; DefinitionError naming `what` and the value when the sum is
    past the calendar's end (year 9999) or the value is not a finite number of seconds,
    instead of the OverflowError that timedelta and datetime raise."""
    try:
        if not math.isfinite(seconds):
            raise OverflowError
        return moment + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        raise DefinitionError(f"{what} of {seconds!r} seconds is too long to schedule") from None


MAX_RUN_TIMEOUT_SECONDS = MAX_DURATION_SECONDS
"""The longest run timeout a graph workflow may set: a year. Longer is a typo, not a plan."""


def check_run_timeout(value: Any) -> float | None:
    """A graph workflow's run timeout in seconds, or None for none; ValueError when it is not a
    number of seconds above 0 and at most 365 days (a bool or a text is not a number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number of seconds, or null for no run timeout")
    seconds = float(value)
    # NaN fails both comparisons, infinity the second.
    if not (seconds > 0 and seconds <= MAX_RUN_TIMEOUT_SECONDS):
        raise ValueError("more than 0 seconds and at most 365 days (31536000 seconds)")
    return seconds
