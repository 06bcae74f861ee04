"""Reading a run's journal into the core's entries (engine.core.journal.Entry): all of it at
the start of an advance, or one record just written."""

import functools
from collections.abc import Sequence
from typing import Any

from engine.core.journal import Entry, EntryKind, EntryStatus
from engine.models import StepRecord
from engine.models.prepared import prepared_cursor, values_from_row

_ENTRY_FIELDS = (
    "seq",
    "kind",
    "name",
    "status",
    "attempt",
    "output",
    "error",
    "retry_at",
    "wake_at",
)
"""What a journal entry is made of: the StepRecord fields replay reads, named as Entry's."""


def _entry(values: Sequence[Any]) -> Entry:
    fields = dict(zip(_ENTRY_FIELDS, values, strict=True))
    fields["kind"], fields["status"] = EntryKind(fields["kind"]), EntryStatus(fields["status"])
    return Entry(**fields)


def entry_of(record: StepRecord) -> Entry:
    return _entry([getattr(record, name) for name in _ENTRY_FIELDS])


def load_journal(run_id: int) -> dict[int, Entry]:
    """The run's own positions (not branches), the latest attempt of each.

    Read once per advance, so prepared (engine.models.prepared) and read into entries
    without building a StepRecord for each row."""
    with prepared_cursor() as cursor:
        cursor.execute(_journal_sql(), [run_id])
        rows = cursor.fetchall()
    entries = [_entry(values_from_row(StepRecord, _ENTRY_FIELDS, row)) for row in rows]
    # Ordered by attempt: the latest attempt of a position is the one kept.
    return {entry.seq: entry for entry in entries}


@functools.cache
def _journal_sql() -> str:
    # Table and column names come from the model; the run's id is a bound parameter.
    fields: list[Any] = [StepRecord._meta.get_field(name) for name in _ENTRY_FIELDS]
    columns = ", ".join(field.column for field in fields)
    return (
        f"SELECT {columns} FROM {StepRecord._meta.db_table} "  # noqa: S608
        "WHERE run_id = %s AND branch = 0 AND NOT superseded ORDER BY seq, attempt"
    )
