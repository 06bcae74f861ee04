"""Two transactions that each end runs of workflows a and b, in opposite orders, at the same
time, never deadlock on the shared rollup rows: inside rollups_in_key_order() both take the
rows in one global order. Without it (each ending writing its row at once, as transactions did
before), the same interleaving deadlocks — which shows the test would catch a regression."""

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from engine.models import Run, RunRollup, RunStatus
from engine.runtime import rollups
from engine.runtime.rollups import add_run_started, rollups_in_key_order
from engine.runtime.runs import finish_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def one_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run on one row a minute, as two runs whose ids fall in the same shard are
    (engine.runtime.rollups.SHARDS): the order must hold for them."""
    monkeypatch.setattr(rollups, "SHARDS", 1)


def running(workflow: str) -> Run:
    now = timezone.now()
    return Run.objects.create(
        workflow=workflow,
        version="1",
        status=RunStatus.RUNNING,
        created_at=now - timedelta(seconds=2),
        started_at=now - timedelta(seconds=1),
    )


def race(order: Callable[[], AbstractContextManager[object]]) -> list[BaseException]:
    """Thread one ends a run of `lock-a` then one of `lock-b`; thread two the other way round;
    each holds its first ending until the other has made its own. Returns what they raised."""
    # Both endings must fall in the same minute, or they would share no rollup row.
    while timezone.now().second >= 50:
        time.sleep(0.5)
    for workflow in ("lock-a", "lock-b"):  # the rows exist: the endings only update them
        add_run_started(running(workflow), timezone.now())
    pairs = [(running("lock-a"), running("lock-b")), (running("lock-b"), running("lock-a"))]
    halfway = threading.Barrier(2, timeout=15)
    raised: list[BaseException] = []

    def end_both(first: Run, second: Run) -> None:
        try:
            with transaction.atomic(), order():
                finish_run(first, RunStatus.COMPLETED)
                halfway.wait()
                finish_run(second, RunStatus.COMPLETED)
                time.sleep(0.2)  # hold what it took until the commit, as real work would
        except BaseException as exc:  # the test reports whatever it was
            raised.append(exc)
            halfway.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=end_both, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return raised


def completed(workflow: str) -> int:
    return sum(RunRollup.objects.filter(workflow=workflow).values_list("completed", flat=True))


def test_opposite_orders_in_key_order_never_deadlock() -> None:
    """Both transactions commit, and each workflow's row counts both of its endings."""
    for _ in range(3):
        raised = race(rollups_in_key_order)
        assert raised == []
    assert completed("lock-a") == completed("lock-b") == 6


def test_without_the_order_the_same_race_deadlocks() -> None:
    """The control: written as each run ends, the rows are taken a-b and b-a, and PostgreSQL
    breaks the deadlock by failing one transaction."""
    raised = race(nullcontext)
    assert any("deadlock detected" in str(exc) for exc in raised), raised
    assert completed("lock-a") == completed("lock-b") == 1


def add_in_a_savepoint_that_fails(workflow: str, at: datetime) -> None:
    with transaction.atomic(), rollups_in_key_order():
        add_run_started(running(workflow), at)
        raise RuntimeError("the savepoint is rolled back")


def test_held_additions_are_merged_per_row_and_a_rolled_back_block_adds_nothing() -> None:
    """Inside one block, two starts of a workflow become one row's +2; what a nested block
    (a savepoint the caller rolls back and survives) added is dropped with it."""
    now = timezone.now()
    with transaction.atomic(), rollups_in_key_order():
        add_run_started(running("held-a"), now)
        add_run_started(running("held-a"), now)
        with pytest.raises(RuntimeError):
            add_in_a_savepoint_that_fails("held-b", now)
        assert not RunRollup.objects.filter(workflow__startswith="held-").exists()
    started = dict(
        RunRollup.objects.filter(workflow__startswith="held-").values_list("workflow", "started")
    )
    assert started == {"held-a": 2}
