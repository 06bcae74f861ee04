"""A run to start later takes its place under its workflow's cap when it is created, and one
the cap held back is not sent when it falls due while the cap is full (it waits for a place),
but is let in when it falls due after a place freed; a cap that code no
longer declares stops holding runs. No worker: the rows and the messages are the world (workers
an earlier test left running are kept off the queue, or one runs the admitted run to its end and
the held one takes its place)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from engine.models import LimitSource, Run, Timer, WorkflowCap
from engine.resilience.priorities import ADMITTED, HELD
from engine.runtime.runs import cancel_run, create_run
from engine.runtime.sweepers import fire_due_timers
from tests.queues import broker_messages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]


def test_a_scheduled_run_is_admitted_when_created_and_a_held_one_waits_when_due() -> None:
    later = timezone.now() + timedelta(minutes=5)
    with transaction.atomic():
        first = create_run("test-capped-one", {"label": "a"}, start_at=later)
        second = create_run("test-capped-one", {"label": "b"}, start_at=later)
    assert (first.status, first.admission) == ("scheduled", ADMITTED)
    assert (second.status, second.admission) == ("scheduled", HELD)

    Timer.objects.filter(run__in=[first, second]).update(due_at=timezone.now())
    fire_due_timers()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "pending"
    assert first.dispatched_at is not None
    assert second.dispatched_at is None  # held: nothing sent until a place frees


def test_a_held_run_due_after_its_place_freed_is_let_in() -> None:
    soon, later = timezone.now() + timedelta(minutes=1), timezone.now() + timedelta(minutes=5)
    with transaction.atomic():
        first = create_run("test-capped-one", {"label": "a"}, start_at=soon)
        second = create_run("test-capped-one", {"label": "b"}, start_at=later)
    assert (first.admission, second.admission) == (ADMITTED, HELD)
    # The admitted run ends before the held one's time: nothing due was waiting for its place.
    cancel_run(first.pk, compensate=False)
    Timer.objects.filter(run=second).update(due_at=timezone.now())
    with broker_messages() as sent:
        assert fire_due_timers() == 1
    second.refresh_from_db()
    assert (second.status, second.admission) == ("pending", ADMITTED)
    assert second.dispatched_at is not None
    assert sent == ["engine.advance_run"]


def test_a_cap_code_no_longer_declares_stops_holding_runs() -> None:
    WorkflowCap.objects.create(
        workflow="test-uncapped", max_active=1, key_field="", source=LimitSource.DECLARED
    )
    with transaction.atomic():
        runs = [create_run("test-uncapped", {"label": str(n)}) for n in range(2)]
    assert [run.admission for run in runs] == ["", ""]
    assert not WorkflowCap.objects.filter(workflow="test-uncapped").exists()
    # An operator's cap (from the admin) is theirs to remove.
    WorkflowCap.objects.create(
        workflow="test-uncapped", max_active=1, key_field="", source=LimitSource.ADMIN
    )
    with transaction.atomic():
        held = [create_run("test-uncapped", {"label": str(n)}) for n in range(2)]
    assert [run.admission for run in held] == [ADMITTED, HELD]
    assert Run.objects.filter(admission=HELD).count() == 1
