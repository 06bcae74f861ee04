"""What an ending run leaves to close: timers, waits, human tasks, children."""

import functools
from typing import Any

from django.db.models import Exists, OuterRef

from engine.human import open_run_tasks
from engine.models import TERMINAL_STATUSES, Run, Timer, TimerKind, Wait, WaitStatus
from engine.models.prepared import QueryTemplate, prepared_cursor, query_template


def what_is_left_open(run_id: int) -> dict[str, bool]:
    """What an ending run leaves to close, asked in one query: most runs leave nothing, and
    four statements that find nothing were most of an ending's cost.

    Only the run's advancer (holding its lease, as the caller that ends it does) or a canceller
    holding its row lock opens timers, waits, tasks and children for it, so none appears
    between this look and the statements it spares. A parallel step's retry timer is the
    exception, as it always was (it may commit just after them too): the attempt it queues
    finds the run ended and does not run.
    """
    sql, params = left_open_query(run_id)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description or []]
    return {name: bool(found) for name, found in zip(names, row or (), strict=True)}


_ANY_RUN = -1
"""The run id the look's statement is compiled with, replaced by the ending run's."""


def left_open_query(run_id: int, *, besides_run_timeout: bool = False) -> tuple[str, list[Any]]:
    """A SELECT of one row, four booleans (open_timers, open_waits, open_tasks,
    open_children): what the run leaves to close when it ends. See what_is_left_open.
    `besides_run_timeout`: open_timers leaves the run timeout's timer out (the one-statement
    ending closes that one itself)."""
    template = _left_open_template(besides_run_timeout)
    return template.sql, template.bind(run=run_id)


@functools.cache
def _left_open_template(besides_run_timeout: bool = False) -> QueryTemplate:
    """Compiled once per process: building the four subqueries took longer than running them
    (about 1.8 ms of a worker's CPU per run)."""
    timers = Timer.objects.filter(run=OuterRef("pk"))
    if besides_run_timeout:
        timers = timers.exclude(kind=TimerKind.RUN_TIMEOUT)
    queryset = Run.objects.filter(pk=_ANY_RUN).values(
        open_timers=Exists(timers),
        open_waits=Exists(Wait.objects.filter(run=OuterRef("pk"), status=WaitStatus.WAITING)),
        open_tasks=Exists(open_run_tasks([_ANY_RUN])),
        open_children=Exists(
            Run.objects.filter(parent=OuterRef("pk")).exclude(status__in=TERMINAL_STATUSES)
        ),
    )
    return query_template(queryset, run=_ANY_RUN)
