"""Timers falling due together fire within a second of their due time, in a few statements.

A real timer loop process wakes 500 sleeping runs due at the same moment (the suite's small
size of bench/waiting.py's 10,000); a real worker then finishes them. The sweep itself costs
the same handful of statements for 40 timers as for one.
"""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord, Timer
from engine.runtime.runs import create_run
from engine.runtime.sweepers import fire_due_timers
from tests.processes import RunningProcess

BURST = 500


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


@pytest.mark.django_db
def test_a_sweep_costs_the_same_statements_for_40_timers_as_for_one() -> None:
    def sweep_queries(count: int) -> int:
        run_ids = [create_run("test-sleep", {"seconds": 1}).pk for _ in range(count)]
        Run.objects.filter(pk__in=run_ids).update(status=RunStatus.WAITING)
        StepRecord.objects.bulk_create(
            StepRecord(
                run_id=run_id,
                seq=0,
                branch=0,
                name="sleep",
                kind="sleep",
                status="waiting",
                started_at=timezone.now(),
            )
            for run_id in run_ids
        )
        Timer.objects.bulk_create(
            Timer(run_id=run_id, kind="wake", due_at=timezone.now(), seq=0) for run_id in run_ids
        )
        with CaptureQueriesContext(transaction.get_connection()) as queries:
            assert fire_due_timers() == count
        assert set(Run.objects.filter(pk__in=run_ids).values_list("status", flat=True)) == {
            RunStatus.PENDING
        }
        assert not StepRecord.objects.filter(run_id__in=run_ids, status="waiting").exists()
        return len(queries)

    assert sweep_queries(40) == sweep_queries(1)
