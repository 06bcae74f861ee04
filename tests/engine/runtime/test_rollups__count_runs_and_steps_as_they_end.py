"""The engine keeps per-minute rollups as runs and step attempts end on a real worker.

Counts and histogram buckets must equal what the runs and the journal say, computed here from
their rows; a retried run counts each of its endings (see engine.runtime.rollups).
"""

from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from engine.core.histograms import BUCKETS, bucket_of
from engine.models import Run, RunRollup, StepRecord, StepRollup
from engine.models.rollups import duration_columns
from engine.runtime.rollup_rebuild import rebuild_rollups
from engine.runtime.runs import cancel_run, retry_run, start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table"),
]

D = duration_columns("d")
W = duration_columns("w")


def run_totals(workflow: str) -> dict[str, Any]:
    rows = RunRollup.objects.filter(workflow=workflow).values()
    totals: Counter[str] = Counter()
    for row in rows:
        for name in ["started", "completed", "failed", "cancelled", "timed_out", "waited", *D, *W]:
            totals[name] += row[name]
    return dict(totals)


def step_totals(workflow: str) -> dict[str, Counter[str]]:
    totals: dict[str, Counter[str]] = {}
    for row in StepRollup.objects.filter(workflow=workflow).values():
        into = totals.setdefault(row["step"], Counter())
        for name in ["completed", "failed", "retrying", *D]:
            into[name] += row[name]
    return totals


def histogram(seconds: list[float]) -> dict[str, int]:
    counts = Counter(bucket_of(value) for value in seconds)
    return {D[index]: counts.get(index, 0) for index in range(BUCKETS)}


def attempt_seconds(records: Any) -> list[float]:
    return [(r.finished_at - r.started_at).total_seconds() for r in records]


def test_runs_and_steps_are_counted_with_their_durations(celery_worker: RunningProcess) -> None:
    runs = [start_run("test-sequence", {"steps": 3}) for _ in range(2)]
    runs = [wait_for_status(run, "completed") for run in runs]
    totals = run_totals("test-sequence")
    assert (totals["started"], totals["completed"], totals["failed"]) == (2, 2, 0)
    durations = [(r.finished_at - r.started_at).total_seconds() for r in runs]
    assert {name: totals[name] for name in D} == histogram(durations)
    waits = Counter(bucket_of((r.started_at - r.created_at).total_seconds()) for r in runs)
    assert totals["waited"] == 2
    assert {name: totals[name] for name in W} == {W[i]: waits.get(i, 0) for i in range(BUCKETS)}

    steps = step_totals("test-sequence")
    assert sorted(steps) == ["step-1", "step-2", "step-3"]
    for name, counts in steps.items():
        records = StepRecord.objects.filter(run__in=runs, name=name)
        assert counts["completed"] == 2 and counts["failed"] == counts["retrying"] == 0
        assert {column: counts[column] for column in D} == histogram(attempt_seconds(records))


def test_a_retried_run_counts_each_ending_and_each_attempt(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    run = wait_for_status(start_run("test-retry", {"fail_times": 3}), "failed")
    totals = run_totals("test-retry")
    assert (totals["started"], totals["failed"], totals["completed"]) == (1, 1, 0)
    wait_for_status(retry_run(run.pk), "completed")
    totals = run_totals("test-retry")
    # Started once, ended twice: failed, then (after the retry) completed.
    assert (totals["started"], totals["failed"], totals["completed"]) == (1, 1, 1)
    assert sum(totals[name] for name in D) == 2

    flaky = step_totals("test-retry")["flaky"]
    statuses = Counter(
        StepRecord.objects.filter(run=run, name="flaky").values_list("status", flat=True)
    )
    assert statuses == {"retrying": 2, "failed": 1, "completed": 1}
    assert (flaky["retrying"], flaky["failed"], flaky["completed"]) == (2, 1, 1)
    rollup = StepRollup.objects.filter(workflow="test-retry", step="flaky").exclude(failed_run=None)
    assert rollup.values_list("failed_run", flat=True).first() == run.pk


def test_parallel_steps_count_on_the_worker_that_ran_them(celery_worker: RunningProcess) -> None:
    run = wait_for_status(start_run("test-parallel", {"numbers": [1, 2, 3]}), "completed")
    steps = step_totals("test-parallel")
    assert {name: counts["completed"] for name, counts in steps.items()} == {
        "square-1": 1,
        "square-2": 1,
        "square-3": 1,
    }
    records = StepRecord.objects.filter(run=run, branch__gt=0)
    assert sum(sum(counts[c] for c in D) for counts in steps.values()) == records.count()


def test_rebuild_gives_the_same_rollups_except_earlier_endings(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    wait_for_status(start_run("test-sequence", {"steps": 2}), "completed")
    retried = wait_for_status(start_run("test-retry", {"fail_times": 3}), "failed")
    wait_for_status(retry_run(retried.pk), "completed")
    before_steps = {w: step_totals(w) for w in ["test-sequence", "test-retry"]}
    before_sequence = run_totals("test-sequence")

    call_command("rebuild_rollups", verbosity=0)

    assert {w: step_totals(w) for w in ["test-sequence", "test-retry"]} == before_steps
    assert run_totals("test-sequence") == before_sequence
    # The retried run's first ending (failed) is not on its row any more: it counts once.
    rebuilt = run_totals("test-retry")
    assert (rebuilt["started"], rebuilt["failed"], rebuilt["completed"]) == (1, 0, 1)
    assert Run.objects.count() == 2

    # The embedded SQLite's way (summed in Python) gives the same rows as PostgreSQL's.
    in_database = _rows()
    rebuild_rollups(in_python=True)
    assert _rows() == in_database


def _rows() -> tuple[list[Any], list[Any]]:
    runs = RunRollup.objects.order_by("minute", "workflow").values()
    steps = StepRollup.objects.order_by("minute", "workflow", "step").values()
    drop = {"id", "failed_run", "slowest_seconds"}  # ids, and floats summed in another order
    return (
        [
            {k: v for k, v in row.items() if k not in drop | {"duration_sum", "wait_sum"}}
            for row in runs
        ],
        [{k: v for k, v in row.items() if k not in drop | {"duration_sum"}} for row in steps],
    )


def test_cancelled_and_timed_out_runs_count_as_such(
    celery_worker: RunningProcess, timer_loop: RunningProcess
) -> None:
    waiting = wait_for_status(start_run("test-wait", {"order_id": 3}), "waiting")
    cancel_run(waiting.pk)
    slow = wait_for_status(start_run("test-timeout"), "timed_out", timeout=30)
    assert run_totals("test-wait")["cancelled"] == 1
    totals = run_totals("test-timeout")
    assert (totals["timed_out"], totals["completed"], totals["failed"]) == (1, 0, 0)
    seconds = (slow.finished_at - slow.started_at).total_seconds()
    assert totals[D[bucket_of(seconds)]] == 1
