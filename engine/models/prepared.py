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
from django.db import connection, models
from django.db.backends.postgresql.base import CursorDebugWrapper
from django.db.backends.utils import CursorWrapper
from psycopg import Cursor


def preparing() -> bool:
    """Whether statements sent through prepared_cursor() are prepared on this connection."""
    return connection.vendor == "postgresql" and bool(settings.STEPWISE_PREPARED_STATEMENTS)


def prepared_cursor() -> Any:
    """A cursor like `connection.cursor()` (Django's wrapper: execute wrappers and the query
    log still see every statement), whose statements are bound on the server."""
    if not preparing():
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = Cursor(connection.connection)  # psycopg's own: binds on the server
    if connection.queries_logged:
        return _LoggedWithValues(raw, connection)
    return CursorWrapper(raw, connection)


def params_of(instance: models.Model, fields: Sequence[Any]) -> list[Any]:
    """The instance's values of `fields` as a statement's parameters, as the ORM sends them."""
    return [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]


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


class _LoggedWithValues(CursorDebugWrapper):
    """Logs a statement with its values inlined, as the ORM's client-side ones are (the
    server's text has $n placeholders): the query log reads the same either way."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)
