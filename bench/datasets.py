"""What the benchmarks that build a large data set share (dashboard, inbox, runs list).

Each runs on a database of its own with production settings and no Redis, and keeps the data
set it built for the next run: a one-row table says which version of the set and how large, so
a run of the same size reuses it and a change to the set's shape (a new version) rebuilds it.
The table's columns are read by position: sets built before this module named the size column
after what they counted.
"""

import json
import os
from typing import Any

from tests.processes import process_environment


def database_only_environment(default_database_url: str) -> dict[str, str]:
    """Production settings on the bench's database; no Redis, which these benches never need."""
    return process_environment(
        DATABASE_URL=os.environ.get("DATABASE_URL") or default_database_url,
        REDIS_URL=None,
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )


def kept_size(table: str, version: int) -> int | None:
    """The size of the data set kept in the database; None when there is none of `version`."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (version int, size int)")
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (the bench's own table name)
        row = cursor.fetchone()
    return int(row[1]) if row is not None and row[0] == version else None


def forget_dataset(table: str) -> None:
    """The kept set is about to change: until note_dataset, no run may reuse it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (version int, size int)")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (the bench's own table name)


def note_dataset(table: str, version: int, size: int) -> None:
    """The set is complete: the next run of this size and version reuses it."""
    from django.db import connection

    forget_dataset(table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} VALUES (%s, %s)", [version, size])  # noqa: S608


def defaults_for_the_rest(model: type[Any], given: set[str]) -> tuple[str, str]:
    """`, col, …` and `, value, …` for every NOT NULL column of `model` a raw INSERT does not
    give: Django's defaults live in Python, not in the table, and a column added later would
    otherwise break the bench's INSERT … SELECT."""
    columns: list[str] = []
    values: list[str] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in given or not field.has_default():
            continue
        columns.append(field.column)
        values.append(_literal(field.get_default()))
    return "".join(f", {column}" for column in columns), "".join(f", {v}" for v in values)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict | list):
        return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"
