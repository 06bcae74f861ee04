"""A run's lease: taken by one advancer at a time, renewed while its steps run.

The lease is a token and a deadline on the run's row; every journal write checks it
(engine.runtime.fence), and a lease that lapsed (its worker died) lets another take the run.
"""

import functools
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from engine.core.keepers import LeaseKeeper
from engine.models import Run, RunStatus, StepRecord
from engine.models.prepared import instance_from_row, prepared_cursor
from engine.models.row_checks import on_the_row
from engine.resilience.priorities import HELD
from engine.runtime.fence import UNFLUSHED_COMMIT, commits_alone

logger = logging.getLogger(__name__)

_PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def lease_until() -> Any:
    return timezone.now() + timedelta(seconds=settings.STEPWISE_LEASE_SECONDS)


def _renew_leases(held: dict[int, str]) -> None:
    try:
        close_old_connections()
        for run_id, owner in held.items():
            Run.objects.filter(pk=run_id, lease_owner=owner).update(lease_until=lease_until())
    except Exception:
        logger.exception("could not renew run leases")


leases: LeaseKeeper[int, str] = LeaseKeeper(
    "stepwise-leases",
    lambda: max(0.2, settings.STEPWISE_LEASE_SECONDS / 3),
    _renew_leases,
    retire=connections.close_all,
)
"""The runs this process advances while long steps run: run id → lease owner."""


def acquire(run_id: int) -> Run | None:
    """Take the run's lease if nobody holds a live one; returns the run as taken (its
    lease_owner is this advancer's token), or None."""
    taken = take_lease(run_id)
    return None if taken is None else taken[0]


def take_lease(run_id: int) -> tuple[Run, bool] | None:
    """acquire, and whether the run has a journal yet (a run starting has none, and reading
    its empty journal was one more round trip).

    One statement that both takes the lease and reads the run back (UPDATE … RETURNING): the
    advancer needs the row anyway, and a separate SELECT was one more round trip per advance.

    Prepared (engine.models.prepared), it is planned once per connection, and committed on
    its own it does not wait for the journal flush (UNFLUSHED_COMMIT, a condition of the
    statement): a lease means nothing after a PostgreSQL crash, and the first step's commit
    flushes it before that step's result can count. A lease lost with the server leaves the run
    as it was, and the lost-work sweeper sends it again.
    """
    owner = f"{_PROCESS}:{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    params = [
        # A cancelling run stays cancelling while it runs its compensations.
        RunStatus.CANCELLING.value,
        RunStatus.RUNNING.value,
        owner,
        lease_until(),
        False,
        now,
        run_id,
        now,
        RunStatus.PENDING.value,
        RunStatus.RUNNING.value,
        RunStatus.CANCELLING.value,
        # Held behind its workflow's cap, it starts once admitted; a cancel still goes through.
        HELD,
        RunStatus.PENDING.value,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_acquire_sql(unflushed=commits_alone()), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return instance_from_row(Run, row[:-1]), bool(row[-1])


@functools.cache
def _acquire_sql(unflushed: bool) -> str:
    # Table and column names come from the model; every value is a bound parameter.
    columns = ", ".join(
        connection.ops.quote_name(field.column)
        for field in Run._meta.concrete_fields
        if field.column  # every concrete field has one; the stubs allow None
    )
    return (
        f"UPDATE {Run._meta.db_table} SET "  # noqa: S608
        "status = CASE WHEN status = %s THEN status ELSE %s END, "
        "lease_owner = %s, lease_until = %s, wake_requested = %s, "
        "started_at = COALESCE(started_at, %s) "
        "WHERE id = %s AND "
        + on_the_row(
            "(lease_until IS NULL OR lease_until < %s) "
            "AND status IN (%s, %s, %s) AND NOT (admission = %s AND status = %s)"
        )
        + (f" AND {UNFLUSHED_COMMIT}" if unflushed else "")
        + f" RETURNING {columns}, EXISTS (SELECT 1 FROM {StepRecord._meta.db_table} "  # noqa: S608
        f"WHERE run_id = {Run._meta.db_table}.id)"
    )
