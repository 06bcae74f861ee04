"""A cancellation that must not undo (`compensate=False`, or a run timeout of a workflow that
opted out of compensating) used to end the run at once, even while a worker was running one of
its steps: the step's result was then refused by the fence and lost, and a retry ran the step
again while the first execution was still going. Now, while a worker holds the run, the run is
`cancelling` until that step is recorded, then ends at the next position without undoing
anything; a retry resumes after the step instead of running it again.

Through a real Celery worker and timer loop; the held step runs until the test opens its gate.
"""

import uuid

import pytest
from django.db import connection

from engine.models import Run, StepRecord
from engine.runtime.runs import cancel_run, retry_run, start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker", "timer_loop"),
]


def executions(run: Run, step: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(executions), 0) FROM test_side_effects "
            "WHERE key LIKE %s AND step = %s",
            [f"stepwise:{run.pk}:%", step],
        )
        return int(cursor.fetchone()[0])


def open_gate(gate: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO test_side_effects (key, step) VALUES (%s, 'gate')", [f"release-{gate}"]
        )


def started_and_holding(workflow: str) -> tuple[Run, str]:
    gate = uuid.uuid4().hex
    run = start_run(workflow, {"gate": gate})
    wait_until(lambda: executions(run, "held") == 1, 20, f"run {run.pk} to reach its held step")
    return run, gate


def journal(run: Run) -> list[tuple[str, str]]:
    records = StepRecord.objects.filter(run=run).order_by("seq", "attempt")
    return list(records.values_list("name", "status"))


def test_a_cancel_without_undo_waits_for_the_running_step_and_a_retry_skips_it() -> None:
    run, gate = started_and_holding("test-held-step")
    cancel_run(run.pk, compensate=False)
    run.refresh_from_db()
    assert run.status == "cancelling", "not ended while its step runs"
    open_gate(gate)
    run = wait_for_status(run, "cancelled")
    assert run.error == {"type": "Cancelled", "message": "cancelled"}
    # The step that was running is recorded; nothing after it ran, nothing was undone.
    assert journal(run) == [
        ("effect", "completed"),
        ("held_until_released", "completed"),
        ("cancel", "cancelled"),
    ], journal(run)
    assert (executions(run, "held"), executions(run, "after")) == (1, 0)
    assert executions(run, "undo-held") == 0

    retry_run(run.pk)
    run = wait_for_status(run, "completed")
    assert run.output == "after"
    assert executions(run, "held") == 1, "the retry ran the recorded step again"
    assert (executions(run, "before"), executions(run, "after")) == (1, 1)


def test_told_to_stop_undoing_mid_step_it_records_the_step_and_undoes_nothing() -> None:
    run, gate = started_and_holding("test-held-step")
    cancel_run(run.pk)  # undo what it did: cancelling until the running step is recorded
    cancel_run(run.pk, compensate=False)  # then: stop without undoing
    run.refresh_from_db()
    assert run.status == "cancelling"
    open_gate(gate)
    run = wait_for_status(run, "cancelled")
    assert ("held_until_released", "completed") in journal(run), journal(run)
    assert executions(run, "undo-held") == 0
    assert executions(run, "after") == 0


def test_a_run_timeout_that_does_not_undo_waits_for_the_running_step() -> None:
    run, gate = started_and_holding("test-held-step-in-time")
    # The one-second timeout passes while the step runs: the run is told, not ended.
    wait_until(
        lambda: Run.objects.get(pk=run.pk).status == "cancelling",
        10,
        "the run timeout to reach the run",
    )
    open_gate(gate)
    run = wait_for_status(run, "timed_out")
    assert run.error == {"type": "RunTimeout", "message": "the run passed its timeout"}
    assert journal(run)[:2] == [("effect", "completed"), ("held_until_released", "completed")]
    assert (executions(run, "held"), executions(run, "after")) == (1, 0)
