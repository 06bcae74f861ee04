"""Durations written for people."""

from datetime import timedelta


def format_duration(delta: timedelta | None) -> str:
    """A duration for people: 350 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h."""
    if delta is None:
        return ""
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def format_setting(seconds: float) -> str:
    """A configured duration for people, exact and short: 1 ms, 250 ms, 1.5 s, 30 s, 1 min,
    2 min 5 s, 1 h 30 min, 7 d. Settings may go down to a millisecond, which "0.0s" hid."""
    if seconds < 1:
        return f"{seconds * 1000:g} ms"
    if seconds < 60:
        return f"{seconds:g} s"
    parts, rest = [], round(seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts)
