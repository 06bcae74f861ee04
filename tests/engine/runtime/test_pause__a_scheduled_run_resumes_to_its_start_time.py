"""A run paused before its start time goes back to waiting for that time when resumed: its
start timer sends it then. Before, resuming sent it on at once, whatever its time, and counted
its run timeout from then. A run whose start time came while it was paused is sent on when it
resumes, as any timer that came due meanwhile takes effect then."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import RunStatus, Timer, TimerKind
from engine.runtime.runs import pause_run, resume_run, start_run
from engine.runtime.sweepers import fire_due_timers
from tests.queues import broker_messages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]


def test_resumed_before_its_time_it_waits_for_it() -> None:
    run = start_run("test-sequence", {"steps": 1}, start_at=timezone.now() + timedelta(hours=1))
    assert run.status == RunStatus.SCHEDULED
    pause_run(run.pk)
    with broker_messages() as sent:
        resumed = resume_run(run.pk)
    assert resumed.status == RunStatus.SCHEDULED
    assert sent == [], "sent on before its time"
    assert resumed.started_at is None
    assert Timer.objects.filter(run=run, kind=TimerKind.START).count() == 1
    # At its time, the start timer sends it, as it would have without the pause.
    Timer.objects.filter(run=run).update(due_at=timezone.now() - timedelta(seconds=1))
    with broker_messages() as sent:
        assert fire_due_timers() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
    assert sent == ["engine.advance_run"]


def test_resumed_after_its_time_came_it_is_sent_on() -> None:
    run = start_run("test-sequence", {"steps": 1}, start_at=timezone.now() + timedelta(hours=1))
    pause_run(run.pk)
    Timer.objects.filter(run=run).update(due_at=timezone.now() - timedelta(seconds=1))
    assert fire_due_timers() == 1  # came due while paused: nothing moves yet
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    with broker_messages() as sent:
        resumed = resume_run(run.pk)
    assert resumed.status == RunStatus.PENDING
    assert sent == ["engine.advance_run"]
