"""The timer loop wakes early for a timer still to come, but an overdue one (another loop holds
it locked, or its fire keeps failing) does not shorten its pause: it would spin at the least
pause, running every sweeper a hundred times a second."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import Run, Timer, TimerKind
from engine.runtime.sweepers import next_timer_due
from engine.runtime.timers import TimerLoop


def timer_due_in(seconds: float) -> Timer:
    run = Run.objects.create(
        workflow="sleeper", version="v1", status="waiting", created_at=timezone.now()
    )
    due = timezone.now() + timedelta(seconds=seconds)
    return Timer.objects.create(run=run, kind=TimerKind.values[0], due_at=due)


@pytest.mark.django_db
def test_an_overdue_timer_does_not_shorten_the_pause() -> None:
    timer_due_in(-30)
    assert next_timer_due() is None
    assert TimerLoop("test", interval=1.0).pause(elapsed=0.0) == pytest.approx(1.0)


@pytest.mark.django_db
def test_a_timer_to_come_wakes_the_loop_for_it() -> None:
    timer_due_in(-30)
    coming = timer_due_in(0.3)
    assert next_timer_due() == coming.due_at
    assert 0.1 < TimerLoop("test", interval=1.0).pause(elapsed=0.0) <= 0.3
