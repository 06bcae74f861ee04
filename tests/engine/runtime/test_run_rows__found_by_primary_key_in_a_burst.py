"""While thousands of runs are pending, an advancer still reaches its own run's row by primary key:
no statement of a run's life (the lease, each step's fence, progress, a suspension, the end, a
wake by an event, a scheduled start) reads other runs' rows only to throw them away.

The burst is made the way it comes in production: statistics taken at a quiet moment, when
those runs had ended, then all of them made pending at once. A partial index of runnable runs
then looks empty to the planner, which preferred scanning it to the primary key and read every
pending run on every step. Each statement sent is run again under EXPLAIN ANALYZE (rolled
back) on real PostgreSQL.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.inbound.events import deliver_event
from engine.models import Run, RunStatus, Timer
from engine.runtime.runner import advance
from engine.runtime.runs import create_run
from engine.runtime.sweepers import fire_due_timers
from tests.plans import analyzed_plan, rows_scanned

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The runs are advanced here: a worker an earlier test left running must not take them.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

PENDING = 2000
RUN_TABLE = Run._meta.db_table


def make_a_burst_of_pending_runs(besides: Run | None = None) -> None:
    """PENDING other runs, pending on statistics taken when they had ended; `besides` is left
    as it is."""
    others = Run.objects.exclude(pk=besides.pk) if besides is not None else Run.objects.all()
    with transaction.atomic():
        template = create_run("test-sleep", {"seconds": 3600})
    columns = [f.column for f in Run._meta.concrete_fields if f.column != "id"]
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RUN_TABLE} ({listed}) SELECT {listed} "  # noqa: S608
            f"FROM {RUN_TABLE}, generate_series(1, %s) WHERE id = %s",
            [PENDING, template.pk],
        )
        others.update(status=RunStatus.COMPLETED)
        cursor.execute(f"ANALYZE {RUN_TABLE}")
        others.update(status=RunStatus.PENDING)


def statements_reading_other_runs(statements: list[str]) -> list[tuple[int, str]]:
    found = []
    for sql in statements:
        sql = sql.split("; SET LOCAL")[0]
        if RUN_TABLE not in sql or sql in ("BEGIN", "COMMIT") or sql.startswith("SAVEPOINT"):
            continue
        # Its own row, read again after the run moved on, may fail the filter now: one row.
        _, dropped = rows_scanned(analyzed_plan(sql), RUN_TABLE)
        if dropped > 1:
            found.append((dropped, sql[:120]))
    return found


@pytest.mark.parametrize(
    ("workflow", "run_input", "ends"),
    [
        ("test-no-op-steps", {"steps": 3}, RunStatus.COMPLETED),
        ("test-no-op-steps", {"steps": 3, "progress": True}, RunStatus.COMPLETED),
        ("test-sleep", {"seconds": 3600}, RunStatus.WAITING),
    ],
)
def test_a_run_is_reached_by_its_key_while_thousands_are_pending(
    workflow: str, run_input: dict[str, Any], ends: str
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plans")
    make_a_burst_of_pending_runs()
    with transaction.atomic():
        run = create_run(workflow, run_input)
    with CaptureQueriesContext(connection) as queries:
        advance(run.pk)
    assert Run.objects.get(pk=run.pk).status == ends

    found = statements_reading_other_runs([q["sql"] for q in queries.captured_queries])
    assert found == [], f"with {PENDING} runs pending, these read other runs: {found}"


def test_a_wake_and_a_scheduled_start_reach_their_run_by_its_key() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plans")
    with transaction.atomic():
        waiting = create_run("test-wait-simple", {"n": 7})
        later = create_run(
            "test-no-op-steps", {"steps": 1}, start_at=timezone.now() + timedelta(hours=1)
        )
    advance(waiting.pk)
    make_a_burst_of_pending_runs(besides=waiting)
    Run.objects.filter(pk=later.pk).update(status=RunStatus.SCHEDULED)

    with CaptureQueriesContext(connection) as queries:
        assert deliver_event("Load.released", {"n": 7}).woken_runs == [waiting.pk]
        advance(waiting.pk)
        # Made due and fired in one transaction: the session's timer loop, if an earlier test
        # started it, never sees the timer due and cannot fire it first.
        with transaction.atomic():
            Timer.objects.filter(run=later).update(due_at=timezone.now())
            assert fire_due_timers() == 1
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.COMPLETED
    assert Run.objects.get(pk=later.pk).status == RunStatus.PENDING

    found = statements_reading_other_runs([q["sql"] for q in queries.captured_queries])
    assert found == [], f"with {PENDING} runs pending, these read other runs: {found}"
