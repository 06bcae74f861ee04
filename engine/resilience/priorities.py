"""Run priorities and workflow caps: fairness decided in the database, not the broker.

A capped workflow (`@workflow(max_active=5)` or a WorkflowCap row in the admin, which wins)
lets at most that many of its runs move at once, per value of its concurrency key if it has
one. A run created beyond the cap is kept `held` (pending, with no message sent); when an
admitted run ends, the held run with the highest priority, then the oldest, is let in and
sent to a worker. So a flood of one workflow queues behind its own cap while other
workflows' runs go straight to the workers. A cap raised lets in at once as many held runs
as now fit, in the same order; a cap removed lets them all in; a cap lowered evicts nobody.

Why not Celery priorities: on Redis they are emulated with one list per priority band and
workers prefetch messages, so a message already fetched is not overtaken; the order a
person sets would be a hint. The database orders held runs exactly, in one indexed query.
A run's priority also orders its steps waiting at a bulkhead (engine.resilience.bulkheads).
"""

import functools
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from engine.core.definitions import WorkflowDefinition
from engine.core.priority import MAX_PRIORITY, priority_problem
from engine.messaging.dispatch import advance_on_commit
from engine.models import TERMINAL_STATUSES, LimitSource, Run, RunStatus, WorkflowCap
from engine.models.prepared import instance_from_row, prepared_cursor

__all__ = [
    "ADMITTED",
    "HELD",
    "MAX_PRIORITY",
    "admit",
    "admit_next",
    "check_priority",
    "delete_caps",
    "save_cap",
]

HELD = "held"
ADMITTED = "admitted"

HELD_ORDER = ("-priority", "created_at", "pk")
"""The order held runs are let in: highest priority first, then the oldest."""


def check_priority(value: Any) -> int:
    """A priority from -100 (last) to 100 (first); ValueError names the field."""
    problem = priority_problem(value)
    if problem is not None:
        raise ValueError(f"priority {problem}")
    return int(value)


def _cap_of(workflow: str, definition: WorkflowDefinition | None) -> WorkflowCap | None:
    """The workflow's cap row, locked; a cap declared in code gets (and refreshes) its row."""
    declared = definition.max_active if definition is not None else None
    caps = WorkflowCap.objects.select_for_update()
    cap = _locked_cap(workflow)
    if declared is None:
        if cap is not None and cap.source == LimitSource.DECLARED:
            # The code no longer declares one: a cap kept from it would outlive its source.
            cap.delete()
            _admit_held_under(workflow, None)
            return None
        return cap
    assert definition is not None
    key_field = definition.concurrency_key or ""
    if cap is None:
        WorkflowCap.objects.get_or_create(
            workflow=workflow,
            defaults={
                "max_active": declared,
                "key_field": key_field,
                "source": LimitSource.DECLARED,
            },
        )
        return caps.get(workflow=workflow)
    if cap.source == LimitSource.DECLARED and (cap.max_active, cap.key_field) != (
        declared,
        key_field,
    ):
        cap.max_active, cap.key_field = declared, key_field
        cap.save(update_fields=["max_active", "key_field", "updated_at"])
        _admit_held_under(workflow, declared)
    return cap


def _locked_cap(workflow: str) -> WorkflowCap | None:
    """The workflow's cap row, locked (FOR UPDATE). Looked for at every start, and most
    workflows have none: prepared (engine.models.prepared), read without the ORM."""
    with prepared_cursor() as cursor:
        cursor.execute(_cap_sql(connection.features.has_select_for_update), [workflow])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(WorkflowCap, row)


@functools.cache
def _cap_sql(lock: bool) -> str:
    # Table and column names come from the model; the workflow is a bound parameter. SQLite
    # has no row locks (its writers take turns anyway).
    columns = ", ".join(str(field.column) for field in WorkflowCap._meta.concrete_fields)
    return (
        f"SELECT {columns} FROM {WorkflowCap._meta.db_table} "  # noqa: S608
        "WHERE workflow = %s" + (" FOR UPDATE" if lock else "")
    )


def _key_of(cap: WorkflowCap, input: Any) -> str:
    if not cap.key_field:
        return ""
    value: Any = input
    for part in cap.key_field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)[:200]


def _active(workflow: str, key: str) -> int:
    return (
        Run.objects.filter(workflow=workflow, concurrency_key=key, admission=ADMITTED)
        .exclude(status__in=TERMINAL_STATUSES)
        .count()
    )


def admit(run: Run, definition: WorkflowDefinition | None) -> None:
    """Inside create_run's transaction, before the run is saved: admit it or hold it.

    The cap row's lock orders this against other starts and against admit_next, so two
    starts cannot both take the last place.
    """
    cap = _cap_of(run.workflow, definition)
    if cap is None:
        return
    run.concurrency_key = _key_of(cap, run.input)
    if _active(run.workflow, run.concurrency_key) < cap.max_active:
        run.admission = ADMITTED
    else:
        run.admission = HELD
        run.dispatched_at = None


def admit_next(workflow: str, key: str) -> int:
    """Inside the transaction that ended an admitted run: let the next held runs in."""
    cap = WorkflowCap.objects.select_for_update().filter(workflow=workflow).first()
    held = _held(workflow).filter(concurrency_key=key)
    # Without a cap (an operator removed it) every held run goes.
    free = None if cap is None else cap.max_active - _active(workflow, key)
    if free is not None and free <= 0:
        return 0
    return _let_in(list(held.order_by(*HELD_ORDER).values_list("pk", flat=True)[:free]))


def save_cap(cap: WorkflowCap) -> int:
    """Save a new or changed cap and let in the held runs it now has room for.

    Returns how many runs were let in. A lower limit lets none in and evicts none: the runs
    moving finish, and held runs wait until fewer than the limit move.
    """
    with transaction.atomic():
        # The row is locked before anything else, as a start (admit) and admit_next lock it:
        # a run ending meanwhile waits and then counts against the new limit, not the old one.
        before = (
            None
            if cap.pk is None
            else WorkflowCap.objects.select_for_update().filter(pk=cap.pk).first()
        )
        cap.save()
        admitted = 0
        if before is not None and before.workflow != cap.workflow:
            # The cap moved to another workflow: the one it left is no longer capped.
            admitted += _admit_held_under(before.workflow, None)
        return admitted + _admit_held_under(cap.workflow, cap.max_active)


def delete_caps(workflows: Iterable[str]) -> int:
    """Remove these workflows' caps and let every run they held in; returns how many."""
    with transaction.atomic():
        # Rows locked in workflow order: two deletions of overlapping sets wait for each
        # other instead of deadlocking. Each row is locked before the runs it holds, as in
        # admit_next.
        locked = list(
            WorkflowCap.objects.select_for_update()
            .filter(workflow__in=list(workflows))
            .order_by("workflow")
            .values_list("pk", "workflow")
        )
        WorkflowCap.objects.filter(pk__in=[pk for pk, _ in locked]).delete()
        return sum(_admit_held_under(workflow, None) for _, workflow in locked)


def _held(workflow: str) -> QuerySet[Run]:
    """The workflow's held runs that are due to start (a scheduled one waits for its time)."""
    return Run.objects.filter(workflow=workflow, admission=HELD, status=RunStatus.PENDING)


def _admit_held_under(workflow: str, max_active: int | None) -> int:
    """With the workflow's cap row locked (or deleted) in this transaction: let in, for every
    key, the held runs `max_active` has room for, in admit_next's order; all of them without
    a cap. A fixed number of queries, however many keys hold runs back."""
    if max_active is None:
        # A held run still to start no longer waits for a place: its start timer sends it.
        Run.objects.filter(workflow=workflow, admission=HELD, status=RunStatus.SCHEDULED).update(
            admission=ADMITTED
        )
        return _let_in(list(_held(workflow).order_by(*HELD_ORDER).values_list("pk", flat=True)))
    moving = dict(
        Run.objects.filter(workflow=workflow, admission=ADMITTED)
        .exclude(status__in=TERMINAL_STATUSES)
        .order_by()
        .values_list("concurrency_key")
        .annotate(count=Count("pk"))
        .values_list("concurrency_key", "count")
    )
    # Each key's held runs numbered in the order they go in; no key lets in more than the limit.
    ranked = (
        _held(workflow)
        .annotate(place=Window(RowNumber(), partition_by=F("concurrency_key"), order_by=HELD_ORDER))
        .filter(place__lte=max_active)
        .order_by(*HELD_ORDER)
        .values_list("pk", "concurrency_key", "place")
    )
    return _let_in([pk for pk, key, place in ranked if place <= max_active - moving.get(key, 0)])


def _let_in(chosen: list[int]) -> int:
    """Admit these held runs and send each to a worker once the transaction commits."""
    if not chosen:
        return 0
    Run.objects.filter(Q(pk__in=chosen), admission=HELD).update(
        admission=ADMITTED, dispatched_at=timezone.now()
    )
    for run_id in chosen:
        advance_on_commit(run_id)
    return len(chosen)
