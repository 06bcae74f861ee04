"""A run's priority: a whole number from -100 (last) to 100 (first), 0 by default.

Checked wherever a priority is entered (a start, a schedule, a trigger, a webhook endpoint),
each place naming its own field; engine.resilience.priorities orders runs by it.
"""

from typing import Any

MAX_PRIORITY = 100


def priority_problem(value: Any) -> str | None:
    """Why `value` is not a priority, or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_PRIORITY:
        return f"must be a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}"
    return None
