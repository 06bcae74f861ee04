"""The engine's hot statements, bound on the server and planned once per connection.

Every step of every run sends the same few statements: its fenced insert (with its rollup row),
the lease, the rollup upserts of an ending. Django sends a statement as text with its values
inlined (client-side binding), so PostgreSQL parses and plans it afresh each time; for a step's
insert with its rollup CTE, planning was about half of the statement's time. Sent with bound
parameters instead, psycopg prepares a statement once it has been used a few times on a
connection (the connection's prepare_threshold, set in config.settings), and PostgreSQL reuses
its plan. Only the statements sent through `prepared_cursor()` are prepared: the ORM's stay
client-side, so an ad-hoc query never crowds the connection's cache of prepared statements.

Every statement sent here finds its rows by the run's id or a unique key, so a generic plan (one
that does not look at the values) is as good as a custom one; a test reads those plans.

STEPWISE_PREPARED_STATEMENTS=false turns it off, for a pooler in transaction mode that cannot
keep a session's prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import CursorDebugWrapper
from django.db.backends.utils import CursorWrapper
from psycopg import Cursor
from psycopg._queries import PostgresQuery, _query2pg_nocache


def database() -> BaseDatabaseWrapper:
    """This thread's connection itself. `django.db.connection` is a proxy that looks the
    connection up (a context-local read) at every attribute: a step's statement read it over
    twenty times, a few percent of a step's Python."""
    return connections[DEFAULT_DB_ALIAS]


def preparing(db: BaseDatabaseWrapper | None = None) -> bool:
    """Whether statements sent through prepared_cursor() are prepared on this connection."""
    db = db or database()
    return db.vendor == "postgresql" and bool(settings.STEPWISE_PREPARED_STATEMENTS)


def prepared_cursor() -> Any:
    """A cursor like `connection.cursor()` (Django's wrapper: execute wrappers and the query
    log still see every statement), whose statements are bound on the server."""
    db = database()
    if not preparing(db):
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = _EngineCursor(db.connection)  # psycopg's own kind: binds on the server
    if db.queries_logged:
        return _LoggedWithValues(raw, db)
    return CursorWrapper(raw, db)


def params_of(instance: models.Model, fields: Sequence[Any]) -> list[Any]:
    """The instance's values of `fields` as a statement's parameters, as the ORM sends them."""
    db = database()
    return [field.get_db_prep_save(getattr(instance, field.attname), db) for field in fields]


def instance_from_row(model: type[models.Model], row: Sequence[Any]) -> Any:
    """A model instance from a row of all its concrete columns, in the model's order."""
    names = [field.name for field in model._meta.concrete_fields]
    attnames = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, attnames, values_from_row(model, names, row))


def values_from_row(
    model: type[models.Model], names: Sequence[str], row: Sequence[Any]
) -> list[Any]:
    """The row's values of the fields `names`, as the ORM's own queries give them back (JSON
    decoded; on SQLite, datetimes made aware and booleans made bool): a raw cursor returns
    what the driver read."""
    converters = _converters(model, tuple(names))
    return [convert(value) for convert, value in zip(converters, row, strict=True)]


@functools.cache
def _converters(model: type[models.Model], names: tuple[str, ...]) -> list[Callable[[Any], Any]]:
    def chain(column: Any, steps: list[Any]) -> Callable[[Any], Any]:
        def convert(value: Any) -> Any:
            for step in steps:
                value = step(value, column, connection)
            return value

        return convert

    found = []
    for name in names:
        field: Any = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        found.append(chain(column, steps))
    return found


@dataclass(frozen=True)
class QueryTemplate:
    """A query the ORM compiled once with stand-in values, bound to the real ones at each use:
    building a queryset with subqueries takes longer than running it, on every call."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[str | None, ...]
    """For each parameter, the name of the stand-in it is, or None for a constant."""

    def bind(self, **values: Any) -> list[Any]:
        return [
            param if slot is None else values[slot]
            for param, slot in zip(self.params, self.slots, strict=True)
        ]


def query_template(queryset: Any, **stand_ins: Any) -> QueryTemplate:
    """The queryset compiled, with each parameter equal to a stand-in (same type and value)
    named after it. A stand-in must not equal a constant of the query."""
    sql, params = queryset.query.sql_with_params()
    slots = tuple(
        next((name for name, stand_in in stand_ins.items() if _same(param, stand_in)), None)
        for param in params
    )
    missing = set(stand_ins) - set(slots)
    assert not missing, f"stand-ins not among the query's parameters: {sorted(missing)}"
    return QueryTemplate(sql, tuple(params), slots)


def _same(param: Any, stand_in: Any) -> bool:
    return type(param) is type(stand_in) and param == stand_in


_converted = functools.lru_cache(maxsize=256)(_query2pg_nocache)
"""A statement's text with psycopg's placeholders turned into PostgreSQL's ($1, $2…), by text."""
REMEMBERED_LENGTH = 16_384
"""Longer texts (multi-row upserts of many rollup rows, one text per row count) are rewritten
each time, as psycopg does: remembering them would hold megabytes for statements seldom sent."""


class _ConvertedOnce(PostgresQuery):
    """psycopg rewrites a statement's placeholders at every execution unless the statement is
    short (4 KB and 50 parameters at most; longer ones are usually an ORM's one-off). The
    engine's one-statement start and end carry a run's columns and its rollup row's, about a
    hundred parameters: rewriting them cost 0.2 to 0.4 ms at every run's start and end. The
    statements sent here are a few fixed texts, so each is rewritten once per process."""

    __slots__ = ()

    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, str | bytes) or len(query) > REMEMBERED_LENGTH:
            super().convert(query, vars)
            return
        text = self._ensure_bytes(query)
        self.query, self._want_formats, self._order, self._parts = _converted(
            text, self._tx.encoding
        )
        self.dump(vars)


class _EngineCursor(Cursor):
    _query_cls = _ConvertedOnce


class _LoggedWithValues(CursorDebugWrapper):
    """Logs a statement with its values inlined, as the ORM's client-side ones are (the
    server's text has $n placeholders): the query log reads the same either way."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)
