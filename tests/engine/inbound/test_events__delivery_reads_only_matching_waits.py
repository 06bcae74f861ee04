"""An event is matched to its waiting runs by index: delivering it reads the waits it wakes, not
every open wait of its type, so its cost does not grow with the number of runs waiting.

Many runs of one workflow wait for `Load.released`, each for its own `n` (a keyed match); the
statement that looks for candidates is run again under EXPLAIN ANALYZE on real PostgreSQL and
must read no row of the waits table only to throw it away. The world is asserted too: the one
matching run is woken, its wait satisfied, and every other run still waits.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from engine.inbound.events import deliver_event
from engine.models import Run, RunStatus, Wait, WaitStatus
from engine.runtime.runner import advance
from engine.runtime.runs import create_run
from tests.plans import analyzed_plan, rows_scanned

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The runs are advanced here: a worker an earlier test left running must not take them.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

WAITING = 120


def test_an_event_reads_only_the_waits_it_matches() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plans")
    runs = []
    for n in range(WAITING):
        with transaction.atomic():
            runs.append(create_run("test-wait-simple", {"n": n}))
        advance(runs[-1].pk)
    assert Run.objects.filter(status=RunStatus.WAITING).count() == WAITING

    table = Wait._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        delivery = deliver_event("Load.released", {"n": 77})
    assert delivery.woken_runs == [runs[77].pk]

    candidates = next(
        q["sql"]
        for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and '"match_key"' in q["sql"] and "UPDATE" not in q["sql"]
    )
    plan = analyzed_plan(candidates)
    # Run again after the delivery: the woken run's wait is no longer open, so nothing is
    # returned, and nothing may have been read only to be thrown away.
    returned, removed = rows_scanned(plan, table)
    assert (returned, removed) == (0, 0), (
        f"looking for the waits of one event read {returned + removed} of {WAITING - 1} waits"
    )

    assert Wait.objects.get(run=runs[77]).status == WaitStatus.SATISFIED
    assert Run.objects.filter(status=RunStatus.WAITING).count() == WAITING - 1
    assert Wait.objects.filter(status=WaitStatus.WAITING).count() == WAITING - 1
