"""Conditions checked on a row once its primary key has found it, never used to find it.

A statement such as `WHERE id = %s AND status = 'running'` may be planned through an index of
`status` rather than the primary key: a partial index of runnable runs looks tiny to the planner
when its statistics were taken at a quiet moment, so it scans that index and filters by id. In a
burst of 10,000 pending runs a step's fence then read all 10,000 entries (about 1 ms, against
0.02 ms by primary key), and every step paid it. Wrapped in a CASE, the conditions can neither
be an index's search key nor prove a partial index usable, so the primary key is the only way
in, whatever the statistics say.
"""

from typing import Any

from django.db.models import BooleanField, Case, Q, Value, When


def on_the_row(condition: str) -> str:
    """SQL: `condition` (placeholders and all) as a filter the planner cannot use to search."""
    return f"CASE WHEN {condition} THEN true ELSE false END"


def checked_on_the_row(*conditions: Q, **lookups: Any) -> Case:
    """The ORM's form of on_the_row, for .filter(checked_on_the_row(...), pk=...)."""
    return Case(
        When(Q(*conditions, **lookups), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
