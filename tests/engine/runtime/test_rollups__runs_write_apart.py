"""Two runs ending attempts of one step in the same minute add to different rollup rows, and so
do two runs of one workflow starting or ending in one minute, so neither waits for the other's
commit (with one row per minute, two workers running the same workflow took turns: every step's
upsert held that row's lock through its commit's flush).
Readers sum the rows; compaction merges them (test_rollup_compaction__merges_old_minutes_...).

Real PostgreSQL, two connections: the first holds its upsert's transaction open while the second
upserts under a lock timeout.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import RunRollup, StepRollup
from engine.runtime.rollups import (
    SHARDS,
    minute_of,
    run_upsert_sql,
    run_values,
    step_upsert_sql,
    step_values,
)
from engine.runtime.runs import start_run
from tests.connections import second_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Runs started here send their message to a queue of this test's own.
    pytest.mark.usefixtures("queue_to_ourselves"),
]


def attempt_of(run_id: int) -> list[object]:
    finished = timezone.now()
    values = step_values(
        run_id=run_id,
        workflow="orders",
        step="charge",
        status="completed",
        started_at=finished - timedelta(seconds=1),
        finished_at=finished.replace(second=30),
    )
    assert values is not None
    return values


def test_runs_after_each_other_add_to_rows_that_do_not_lock_each_other() -> None:
    with second_connection() as holding, second_connection() as other:
        holding.execute(step_upsert_sql(), attempt_of(41))  # its transaction stays open
        other.execute("SET lock_timeout = '2s'")
        other.execute(step_upsert_sql(), attempt_of(42))  # would time out on a shared row
        other.commit()
        holding.commit()
    rows = StepRollup.objects.filter(workflow="orders", step="charge")
    assert sorted(rows.values_list("shard", flat=True)) == [41 % SHARDS, 42 % SHARDS]
    assert sum(row.completed for row in rows) == 2


def test_a_runs_attempts_add_to_its_one_row() -> None:
    with second_connection() as writing:
        for _ in range(3):
            writing.execute(step_upsert_sql(), attempt_of(7))
        writing.commit()
    row = StepRollup.objects.get(workflow="orders", step="charge")
    assert (row.shard, row.completed, row.slowest_run) == (7 % SHARDS, 3, 7)


def test_runs_of_one_workflow_start_on_rows_that_do_not_lock_each_other() -> None:
    minute = minute_of(timezone.now())
    starts = [
        run_values(workflow="orders", minute=minute, shard=run % SHARDS, started=1)
        for run in (41, 42)
    ]
    with second_connection() as holding, second_connection() as other:
        holding.execute(run_upsert_sql(), starts[0])  # its transaction stays open
        other.execute("SET lock_timeout = '2s'")
        other.execute(run_upsert_sql(), starts[1])  # would time out on a shared row
        other.commit()
        holding.commit()
    rows = RunRollup.objects.filter(workflow="orders")
    assert sorted(rows.values_list("shard", flat=True)) == [41 % SHARDS, 42 % SHARDS]
    assert sum(row.started for row in rows) == 2


def test_a_run_starts_on_the_row_its_id_picks() -> None:
    runs = [start_run("test-no-op-steps", {"steps": 1}) for _ in range(3)]
    rows = RunRollup.objects.filter(workflow="test-no-op-steps")
    assert sum(row.started for row in rows) == 3
    assert set(rows.values_list("shard", flat=True)) == {run.pk % SHARDS for run in runs}
