"""Timers falling due together fire within a second of their due time, in a few statements.

A real timer loop process wakes 500 sleeping runs due at the same moment (the suite's small
size of bench/waiting.py's 10,000); a real worker then finishes them. The sweep itself costs
the same handful of statements for 40 timers as for one, each batch the same few statements,
and a burst bigger than a batch is fired in one tick, batch after batch (the messages to
workers go once the last has committed: test_dispatch__held_messages_go_when_the_block_ends).
"""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord, Timer
from engine.runtime import sweepers
from engine.runtime.runs import create_run
from engine.runtime.sweepers import fire_due_timers
from engine.runtime.timers import TimerLoop
from tests.processes import RunningProcess

BURST = 500
STATEMENTS_PER_BATCH = 6
"""A savepoint, claiming the due timers, deleting them, ending the sleeps, waking the runs
(the statement returns which woke), releasing the savepoint."""


def start_sleepers(count: int) -> list[int]:
    with transaction.atomic():
        return [create_run("test-sleep", {"seconds": 3600}).pk for _ in range(count)]


def wait_until_all(run_ids: list[int], status: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    runs = Run.objects.filter(pk__in=run_ids, status=status)
    while runs.count() < len(run_ids):
        assert time.monotonic() < deadline, f"{runs.count()}/{len(run_ids)} runs are {status}"
        time.sleep(0.05)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_500_timers_due_at_once_all_fire_within_a_second(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    run_ids = start_sleepers(BURST)
    wait_until_all(run_ids, RunStatus.WAITING, timeout=60)
    due_at = timezone.now() + timedelta(seconds=1)
    # The hour-long sleeps all fall due at one moment.
    assert Timer.objects.filter(run_id__in=run_ids).update(due_at=due_at) == BURST

    wait_until_all(run_ids, RunStatus.COMPLETED, timeout=60)
    fired_at = list(
        StepRecord.objects.filter(run_id__in=run_ids, kind="sleep").values_list(
            "finished_at", flat=True
        )
    )
    lags = sorted((moment - due_at).total_seconds() for moment in fired_at)
    assert len(lags) == BURST
    assert lags[0] >= 0, "a timer fired before it was due"
    assert lags[-1] <= 1.0, f"the last timer fired {lags[-1]:.3f} s late"
    assert not Timer.objects.filter(run_id__in=run_ids).exists()


def due_sleepers(count: int) -> list[int]:
    """Runs waiting in a sleep whose timer is due, written directly: no message is sent."""
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            workflow="test-sleep",
            version="v1",
            status=RunStatus.WAITING,
            input={"seconds": 3600},
            created_at=now,
            started_at=now,
        )
        for _ in range(count)
    )
    run_ids = [run.pk for run in runs]
    StepRecord.objects.bulk_create(
        StepRecord(
            run_id=run_id,
            seq=0,
            branch=0,
            name="sleep",
            kind="sleep",
            status="waiting",
            started_at=now,
        )
        for run_id in run_ids
    )
    Timer.objects.bulk_create(
        Timer(run_id=run_id, kind="wake", due_at=now, seq=0) for run_id in run_ids
    )
    return run_ids


def sweep_statements(count: int) -> int:
    run_ids = due_sleepers(count)
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        assert fire_due_timers() == count
    assert set(Run.objects.filter(pk__in=run_ids).values_list("status", flat=True)) == {
        RunStatus.PENDING
    }
    assert not StepRecord.objects.filter(run_id__in=run_ids, status="waiting").exists()
    return len(queries)


@pytest.mark.django_db
def test_a_sweep_costs_the_same_statements_for_40_timers_as_for_one() -> None:
    assert sweep_statements(40) == sweep_statements(1) == STATEMENTS_PER_BATCH


@pytest.mark.django_db
def test_each_batch_of_a_burst_costs_the_same_few_statements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweepers, "TIMER_BATCH", 10)
    # Batches of 10, 10 and 5: the short one tells the sweep that nothing more is due.
    assert sweep_statements(25) == 3 * STATEMENTS_PER_BATCH


@pytest.mark.django_db
def test_a_burst_bigger_than_a_batch_fires_in_one_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    # Uncommitted, these timers are this test's alone: a timer loop process the session
    # started cannot take some of them.
    monkeypatch.setattr(sweepers, "TIMER_BATCH", 10)
    run_ids = due_sleepers(25)
    TimerLoop("timers@test", interval=60.0).tick()
    assert not Timer.objects.filter(run_id__in=run_ids).exists()
    ended = StepRecord.objects.filter(run_id__in=run_ids, kind="sleep", status="completed")
    assert ended.count() == 25
    assert set(Run.objects.filter(pk__in=run_ids).values_list("status", flat=True)) == {
        RunStatus.PENDING
    }
