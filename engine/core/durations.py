"""Durations as people write them in graphs and machines: seconds, or `90s`, `15m`, `48h`, `7d`."""

import re
from typing import Any

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}

DURATION_SCHEMA = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION.pattern}],
    "description": "Seconds, or text such as 90s, 15m, 48h, 7d.",
}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text duration such as `90s`, `15m`, `48h`, `7d`."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration (seconds, or 90s, 15m, 48h, 7d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


MAX_RUN_TIMEOUT_SECONDS = 365 * 86_400
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
