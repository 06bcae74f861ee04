"""The fence around a run's journal: one advancer at a time writes it.

Every write happens in a transaction that first checks, on the run row, that this advancer
still holds the lease and the run is running (a cancel or pause meanwhile still lets a step
that ran be recorded). The common case, one step's result, is a single fenced INSERT.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from engine.core.errors import Cancelled
from engine.core.journal import CancelRequest, Position, Reports
from engine.messaging.signals import announce_step, run_metric, run_progress, send_on_commit
from engine.models import Run, RunMetric, RunStatus, StepRecord
from engine.models.prepared import params_of, prepared_cursor
from engine.models.row_checks import checked_on_the_row, on_the_row
from engine.resilience.bulkheads import DatabaseGate
from engine.runtime.metric_rollups import add_metric
from engine.runtime.records import position_key
from engine.runtime.rollups import add_step_values, rollups_in_key_order, step_upsert_sql


def lease_seconds() -> float:
    return float(settings.STEPWISE_LEASE_SECONDS)


def cancel_request_of(run: Run) -> CancelRequest | None:
    """The cancellation a cancelling run carries out (kept in its error until it ends)."""
    if run.status != RunStatus.CANCELLING:
        return None
    return CancelRequest.from_error(run.error)


HeldStep = tuple[StepRecord, list[Any] | None, dict[str, Any] | None]
"""A step's record, its rollup values (or None) and the run's progress (or None)."""


class FencedWriter:
    """The writing half of a run's journal backend: the lease check and fenced inserts."""

    bulkheads = DatabaseGate()
    """Where its steps take bulkhead slots (engine.core.bulkheads reads it from the backend)."""

    def __init__(self, run: Run, lease_owner: str) -> None:
        self.run = run
        self.run_id = run.pk
        self.lease_owner = lease_owner
        self.cancel_request = cancel_request_of(run)
        self.pause_requested = False
        self._held: HeldStep | None = None

    def now(self) -> datetime:
        return timezone.now()

    def generation(self, position: Position) -> int:
        redo = self.run.redo if isinstance(self.run.redo, dict) else {}
        return int(redo.get(position_key(position), 0))

    # --- the fence --------------------------------------------------------------------------
    def _hold(self, reports: Reports) -> None:
        """Inside a transaction: lock the run row if this advancer still holds it, or stop."""
        now = timezone.now()
        fields: dict[str, Any] = {"lease_until": now + timedelta(seconds=lease_seconds())}
        if reports.progress is not None:
            fields["progress"] = reports.progress
        held = Run.objects.filter(
            checked_on_the_row(lease_owner=self.lease_owner, status=RunStatus.RUNNING),
            pk=self.run_id,
        ).update(**fields)
        if not held:
            self._hold_interrupted(fields)
        self._write_reports(reports)

    def _hold_interrupted(self, fields: dict[str, Any]) -> None:
        """The run is no longer simply running. If it was cancelled or paused while this
        advancer still holds it, the write goes through (a step that ran is recorded, so its
        effect can be undone or kept), and the workflow stops at its next position."""
        run = (
            Run.objects.select_for_update()
            .filter(
                checked_on_the_row(
                    lease_owner=self.lease_owner,
                    status__in=[RunStatus.CANCELLING, RunStatus.PAUSED],
                ),
                pk=self.run_id,
            )
            .first()
        )
        if run is None:
            raise Cancelled()
        Run.objects.filter(pk=self.run_id).update(**fields)
        if run.status == RunStatus.PAUSED:
            self.pause_requested = True
        else:
            self.cancel_request = cancel_request_of(run)

    def _write_reports(self, reports: Reports) -> None:
        write_reports(self.run_id, reports, workflow=self.run.workflow, progress_saved=True)

    @contextmanager
    def _writing(self, reports: Reports) -> Iterator[None]:
        """One commit: the fence, the reports, then whatever the caller writes."""
        self.write_held()
        try:
            # The reports' metrics and the caller's step land in rollup rows: in key order.
            with transaction.atomic(), rollups_in_key_order():
                self._hold(reports)
                yield
        except IntegrityError:
            # Another advancer journaled this position first: this one is a duplicate.
            raise Cancelled() from None

    def _insert_fenced(
        self,
        record: StepRecord,
        rollup: list[Any] | None = None,
        progress: dict[str, Any] | None = None,
    ) -> None:
        """The common case, a step's result (and the run's progress, if the workflow reported
        some): one statement that inserts the record only while this advancer holds the run
        (the lease renews on its own thread).

        FOR SHARE makes a concurrent cancel or takeover wait for this insert, or this insert
        see their change and write nothing; with progress, the UPDATE that stores it is the
        fence instead (its row lock does the same). `rollup` (engine.runtime.rollups.step_values)
        adds the attempt to the step rollups in the same statement on PostgreSQL (a CTE), in
        the same transaction elsewhere: counted if and only if the record is.
        """
        values = insert_values(record)
        fence = [self.run_id, self.lease_owner, RunStatus.RUNNING.value]
        unflushed = _commits_unflushed()
        try:
            if rollup is None and progress is None:
                inserted = _execute(
                    _fenced_insert_sql(connection.vendor, unflushed), [*values, *fence]
                )
            elif connection.vendor == "postgresql":
                # Parameters in the order the statement reads them: the fence comes first
                # when the progress update is the fence.
                params = (
                    [*values, *fence]
                    if progress is None
                    else [_progress_value(progress), *fence, *values]
                )
                inserted = _execute(
                    _fenced_step_sql(rollup is not None, progress is not None, unflushed),
                    [*params, *(rollup or [])],
                )
            else:
                with transaction.atomic():
                    inserted = _execute(
                        _fenced_insert_sql(connection.vendor, unflushed), [*values, *fence]
                    )
                    if inserted and progress is not None:
                        Run.objects.filter(pk=self.run_id).update(progress=progress)
                    if inserted and rollup is not None:
                        _execute(step_upsert_sql(), rollup)
        except IntegrityError:
            raise Cancelled() from None
        if not inserted:
            # Not running: cancelled or paused meanwhile (recorded all the same), or lost.
            with self._writing(Reports(progress=progress)):
                self._insert(record)
                if rollup is not None:
                    add_step_values(rollup)
            return
        announce_step(record)
        if progress is not None:
            send_on_commit(run_progress, run_id=self.run_id, progress=progress)

    def _hold_back(
        self,
        record: StepRecord,
        rollup: list[Any] | None = None,
        progress: dict[str, Any] | None = None,
    ) -> None:
        """A step's result, fenced as _insert_fenced does, committed with the next write: the
        next position's (write_held) or the run's ending (finish). Until then nothing else
        runs, so a worker that dies meanwhile loses no more than a step it would run again
        anyway (at least once), and a run's last step and its end are one commit."""
        self.write_held()
        self._held = (record, rollup, progress)

    def held_step(self) -> HeldStep | None:
        """The step held back for the next commit, if any: (record, rollup, progress)."""
        return self._held

    def held_step_committed(self) -> None:
        """The caller wrote the held step itself, fenced, and committed it
        (engine.runtime.at_once)."""
        if self._held is not None:
            announce_step(self._held[0])
        self._held = None

    def write_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._insert_fenced(*held)

    def _insert(self, record: StepRecord) -> None:
        record.save(force_insert=True)
        announce_step(record)

    def flush(self, reports: Reports) -> None:
        """Inside the transaction that ends or suspends the run: the step held back, then
        what the workflow reported after its last position."""
        held, self._held = self._held, None
        if held is not None:
            record, rollup, progress = held
            # The step's rollup joins the ending's rollups, written in key order (the run's
            # row before the step's), instead of in the insert's own statement.
            self._insert_fenced(record, None, progress)
            if rollup is not None:
                add_step_values(rollup)
        if reports:
            with self._writing(reports):
                pass


@functools.cache
def _fenced_insert_fields() -> list[Any]:
    names = [
        "run",
        "seq",
        "branch",
        "attempt",
        "kind",
        "name",
        "status",
        "output",
        "error",
        "detail",
        "logs",
        "started_at",
        "finished_at",
        "superseded",
    ]
    return [StepRecord._meta.get_field(name) for name in names]


def insert_values(record: StepRecord) -> list[Any]:
    """The parameters of insert_head's statement for `record`."""
    return params_of(record, _fenced_insert_fields())


def insert_head() -> str:
    # Table and column names come from the models; every value is a bound parameter.
    fields = _fenced_insert_fields()
    columns = ", ".join(field.column for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {StepRecord._meta.db_table} ({columns}) SELECT {placeholders}"


def _fence_condition(unflushed: bool) -> str:
    fenced = on_the_row("lease_owner = %s AND status = %s")
    return f"{fenced} AND {UNFLUSHED_COMMIT}" if unflushed else fenced


@functools.cache
def _fenced_insert_sql(vendor: str, unflushed: bool = False) -> str:
    lock = " FOR SHARE" if vendor == "postgresql" else ""  # SQLite serialises writers anyway
    fenced = _fence_condition(unflushed)
    return (
        f"{insert_head()} WHERE EXISTS (SELECT 1 FROM {Run._meta.db_table} "  # noqa: S608
        f"WHERE id = %s AND {fenced}{lock})"
    )


def _execute(sql: str, params: list[Any]) -> int:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


UNFLUSHED_COMMIT = "set_config('synchronous_commit', 'off', true) = 'off'"
"""A condition of a step's fence that is always true and turns synchronous_commit off for the
statement's own implicit transaction (is_local): the setting is read when that transaction
commits, and holds for that commit alone. Part of the one statement, so it can be prepared
(two commands in one string cannot)."""


def _commits_unflushed() -> bool:
    """With STEPWISE_ASYNC_STEP_COMMITS, a step committed on its own does not wait for its
    journal to reach the disk. A worker crash still loses nothing (the commit happened); a
    PostgreSQL crash may lose the last few hundred milliseconds of commits (up to three
    wal_writer_delay), so those steps run again when the run is picked up:
    engine.runtime.sweepers.redispatch_lost_work sends it again once its lease lapses, or, if
    the lease was lost too, as a pending run whose message is gone.
    A run's ending, and every step written in a transaction, stay ordinary commits, and an
    ending's flush takes the steps before it to the disk too: a run seen ended keeps them all.
    """
    return settings.STEPWISE_ASYNC_STEP_COMMITS and commits_alone()


def commits_alone() -> bool:
    """Whether a statement sent now is committed on its own: on PostgreSQL (which also runs the
    engine's data-modifying CTEs), outside any transaction block. UNFLUSHED_COMMIT and the
    one-statement start and end (engine.runtime.at_once) rely on it."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _progress_value(progress: dict[str, Any]) -> Any:
    return Run._meta.get_field("progress").get_db_prep_save(progress, connection)


@functools.cache
def _fenced_step_sql(with_rollup: bool, with_progress: bool, unflushed: bool = False) -> str:
    """PostgreSQL: the fenced insert, with the run's progress and the step's rollup row in the
    same statement (CTEs). The rollup row comes from the insert's output: no step record
    inserted, nothing counted."""
    if with_progress:
        # The UPDATE storing the progress is the fence: it takes the run's row lock first and
        # the insert reads from it, so the locks go the run, then the rollup row, as in every
        # other writer of both (FOR SHARE before an UPDATE of the same row could deadlock).
        fence = (
            f"fenced AS (UPDATE {Run._meta.db_table} SET progress = %s "  # noqa: S608
            f"WHERE id = %s AND {_fence_condition(unflushed)} RETURNING 1), "
        )
        insert = f"{insert_head()} FROM fenced"
    else:
        fence, insert = "", _fenced_insert_sql("postgresql", unflushed)
    tail = step_upsert_sql("inserted") if with_rollup else "SELECT 1 FROM inserted"
    return f"WITH {fence}inserted AS ({insert} RETURNING 1) {tail}"


def write_reports(
    run_id: int, reports: Reports, *, workflow: str, progress_saved: bool = False
) -> None:
    """Inside a transaction: store a run's progress and metrics (each added to the metric
    rollups as well), and announce them on commit."""
    if reports.progress is not None:
        if not progress_saved:
            Run.objects.filter(pk=run_id).update(progress=reports.progress)
        send_on_commit(run_progress, run_id=run_id, progress=reports.progress)
    if reports.metrics:
        RunMetric.objects.bulk_create(
            [
                RunMetric(run_id=run_id, name=name, value=value, recorded_at=at)
                for name, value, at in reports.metrics
            ]
        )
        for name, value, at in reports.metrics:
            add_metric(workflow=workflow, name=name, value=value, at=at)
            send_on_commit(run_metric, run_id=run_id, name=name, value=value, recorded_at=at)
