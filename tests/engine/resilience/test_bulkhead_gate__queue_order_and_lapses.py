"""The bulkhead gate on PostgreSQL, called as workers call it: N steps enter, the next ones
queue (a row each) and are handed freed slots in priority order, their runs woken; a holder
that stopped renewing its lease loses its slot; an operator's limit wins over declarations;
and a step without a bulkhead never touches the bulkhead tables."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.core import Bulkhead as Spec
from engine.models import Bulkhead, BulkheadSlot, LimitSource, Run, RunStatus, SlotState
from engine.resilience.bulkheads import enter, keeper, leave, release_lapsed_slots
from engine.runtime.runner import advance
from engine.runtime.runs import start_run
from tests.processes import wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The gate is called here as a worker would; a worker an earlier test left running would
    # take these runs and call it too.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

SPEC = Spec("gate-test", max_concurrent=2)


def waiting_run(priority: int = 0) -> Run:
    """A run suspended where a bulkheaded step waits (its worker let it go)."""
    run = start_run("test-sequence", {"steps": 1}, priority=priority)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.WAITING, wake_requested=False)
    return run


def lapse(run: Run) -> None:
    """The run's worker died: nobody renews its slot (this process's keeper would, every few
    seconds) and its lease is over."""
    with keeper.lock:
        for position in list(keeper.held):
            if position[1] == run.pk:
                del keeper.held[position]
    BulkheadSlot.objects.filter(run=run).update(lease_until=timezone.now() - timedelta(seconds=1))


def state_of(run: Run) -> str | None:
    return BulkheadSlot.objects.filter(run=run).values_list("state", flat=True).first()


def test_n_enter_the_rest_queue_and_a_release_wakes_the_first_by_priority() -> None:
    first, second, low, high = waiting_run(), waiting_run(), waiting_run(-5), waiting_run(10)
    assert enter(first.pk, 0, 0, SPEC) and enter(second.pk, 0, 0, SPEC)
    assert not enter(low.pk, 0, 0, SPEC)
    assert not enter(high.pk, 0, 0, SPEC)
    assert not enter(low.pk, 0, 0, SPEC)  # asking again keeps its one place in the queue
    assert BulkheadSlot.objects.filter(state=SlotState.WAITING).count() == 2
    leave(first.pk, 0, 0, SPEC)
    assert state_of(first) is None
    assert (state_of(high), state_of(low)) == (SlotState.HOLDING, SlotState.WAITING)
    high.refresh_from_db()
    assert (high.status, high.wake_requested) == (RunStatus.PENDING, True)
    assert enter(high.pk, 0, 0, SPEC)  # the woken step finds the slot handed to it
    assert BulkheadSlot.objects.filter(state=SlotState.HOLDING).count() == 2


def test_a_holder_that_stops_renewing_loses_its_slot_to_the_queue() -> None:
    dead, alive, waiter = waiting_run(), waiting_run(), waiting_run()
    assert enter(dead.pk, 0, 0, SPEC) and enter(alive.pk, 0, 0, SPEC)
    assert not enter(waiter.pk, 0, 0, SPEC)
    lapse(dead)
    # The session's timer loop, once a test started it, runs this sweep too (once a second):
    # whichever comes first drops the slot, and the other skips the locked bulkhead or finds
    # nothing. The world is what counts: the slot gone and handed on.
    swept = release_lapsed_slots()
    assert swept in (0, 1)
    wait_until(lambda: state_of(dead) is None, timeout=5, what="the lapsed slot to be dropped")
    assert state_of(waiter) == SlotState.HOLDING
    waiter.refresh_from_db()
    assert waiter.status == RunStatus.PENDING


def test_a_lapsed_holder_coming_back_queues_behind_the_waiters() -> None:
    dead, alive, waiter = waiting_run(), waiting_run(), waiting_run()
    assert enter(dead.pk, 0, 0, SPEC) and enter(alive.pk, 0, 0, SPEC)
    assert not enter(waiter.pk, 0, 0, SPEC)
    lapse(dead)
    assert not enter(dead.pk, 0, 0, SPEC)  # its run replays the step after the crash
    assert (state_of(waiter), state_of(dead)) == (SlotState.HOLDING, SlotState.WAITING)


def test_an_operators_limit_wins_over_the_declared_one() -> None:
    runs = [waiting_run() for _ in range(3)]
    assert enter(runs[0].pk, 0, 0, SPEC)
    Bulkhead.objects.filter(name=SPEC.name).update(max_concurrent=1, source=LimitSource.ADMIN)
    assert not enter(runs[1].pk, 0, 0, SPEC)
    assert Bulkhead.objects.get(name=SPEC.name).max_concurrent == 1
    Bulkhead.objects.filter(name=SPEC.name).update(source=LimitSource.DECLARED)
    assert enter(runs[2].pk, 0, 0, SPEC) is False  # the declaration (2) is back: queue first
    assert Bulkhead.objects.get(name=SPEC.name).max_concurrent == 2


@pytest.mark.usefixtures("side_effects_table")
def test_a_step_without_a_bulkhead_pays_no_bulkhead_query() -> None:
    run = start_run("test-sequence", {"steps": 3})
    with CaptureQueriesContext(connection) as queries:
        advance(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert not [query for query in queries if "engine_bulkhead" in query["sql"]]
