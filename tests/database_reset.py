"""How the test database is emptied after each transactional test.

Django's way is `flush`: TRUNCATE of every table, then the post_migrate signal to write the
content types and permissions back. On PostgreSQL that took 0.3 to 0.4 s a test, about an eighth
of the suite's time: a TRUNCATE makes new files for each of some fifty tables and their indexes,
most of them empty. Here the tables a test wrote to are found in one query and emptied with
DELETE in one transaction (Django's foreign keys are deferred, so the order does not matter),
and the content types and permissions, the same after every flush, are left as they are.
Anything this way cannot do, it leaves to `flush`.
"""

import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DatabaseError, connections, transaction
from django.test import TransactionTestCase

KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})
"""Written by migrations and post_migrate alone, identical after every flush."""

LOCK_CONFLICT_ATTEMPTS = 5


def empty_written_tables(alias: str) -> None:
    """DELETE the rows of every table that has any, but the kept ones, in one transaction."""
    connection = connections[alias]
    tables = [
        name
        for name in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if name not in KEPT_TABLES
    ]
    quote = connection.ops.quote_name
    written = " UNION ALL ".join(
        f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(name)})"  # noqa: S608 (table names)
        for index, name in enumerate(tables)
    )
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(written)
        for (index,) in cursor.fetchall():
            cursor.execute(f"DELETE FROM {quote(tables[index])}")  # noqa: S608 (table name)


def _quick_teardown(original: Callable[[TransactionTestCase], None]) -> Callable[..., None]:
    def fixture_teardown(self: TransactionTestCase) -> None:
        plain = self.available_apps is None and not self.serialized_rollback
        aliases = list(self._databases_names(include_mirrors=False))
        if plain and all(connections[alias].vendor == "postgresql" for alias in aliases):
            try:
                for alias in aliases:
                    empty_written_tables(alias)
                return
            except DatabaseError:
                pass  # a lock conflict with a worker, or a constraint not deferred: flush
        original(self)

    return fixture_teardown


def _retrying_on_lock_conflicts(teardown: Callable[..., None]) -> Callable[..., None]:
    """A worker still finishing the last test's run can deadlock with the flush; PostgreSQL then
    aborts one side. The flush is one transaction, so trying it again is safe."""

    def fixture_teardown(self: TransactionTestCase) -> None:
        for attempt in range(1, LOCK_CONFLICT_ATTEMPTS + 1):
            try:
                teardown(self)
                return
            except CommandError as error:
                if attempt == LOCK_CONFLICT_ATTEMPTS or not isinstance(
                    error.__cause__, DatabaseError
                ):
                    raise
                time.sleep(0.2 * attempt)

    return fixture_teardown


def install() -> None:
    original = TransactionTestCase._fixture_teardown
    TransactionTestCase._fixture_teardown = _retrying_on_lock_conflicts(  # type: ignore[method-assign]
        _quick_teardown(original)
    )
