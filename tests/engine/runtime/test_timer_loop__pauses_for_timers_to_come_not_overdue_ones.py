"""The timer loop wakes early for a timer still to come (a run's, a debounced start's, a state
machine's delayed transition), but an overdue one (another loop holds
it locked, or its fire keeps failing) does not shorten its pause: it would spin at the least
pause, running every sweeper a hundred times a second. A timer that fell due while a tick ran,
after the sweep looked, is fired at the next tick, not an interval later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import DebounceSlot, MachineInstance, MachineTimer, Run, Timer, TimerKind
from engine.runtime import timers
from engine.runtime.sweepers import next_timer_due
from engine.runtime.timers import MIN_PAUSE, TimerLoop


def timer_due_in(seconds: float) -> Timer:
    run = Run.objects.create(
        workflow="sleeper", version="v1", status="waiting", created_at=timezone.now()
    )
    due = timezone.now() + timedelta(seconds=seconds)
    return Timer.objects.create(run=run, kind=TimerKind.values[0], due_at=due)


@pytest.mark.django_db
def test_an_overdue_timer_does_not_shorten_the_pause() -> None:
    timer_due_in(-30)
    assert next_timer_due(timezone.now()) is None
    assert TimerLoop("test", interval=1.0).pause(elapsed=0.0) == pytest.approx(1.0)


@pytest.mark.django_db
def test_a_timer_to_come_wakes_the_loop_for_it() -> None:
    timer_due_in(-30)
    coming = timer_due_in(0.3)
    assert next_timer_due(timezone.now()) == coming.due_at
    assert 0.1 < TimerLoop("test", interval=1.0).pause(elapsed=0.0) <= 0.3


@pytest.mark.django_db
def test_a_debounced_start_or_a_machine_timer_to_come_wakes_the_loop_for_it() -> None:
    now = timezone.now()
    debounced = DebounceSlot.objects.create(
        workflow="digest", key="k", first_call_at=now, due_at=now + timedelta(seconds=0.6)
    )
    assert 0.4 < TimerLoop("test", interval=1.0).pause(elapsed=0.0) <= 0.6
    instance = MachineInstance.objects.create(
        machine="expense", version=1, key="e-1", state="submitted", context={},
        entered_at=now, created_at=now, updated_at=now,
    )  # fmt: skip
    MachineTimer.objects.create(
        instance=instance, transition="t", entered_at=now, due_at=now + timedelta(seconds=0.3)
    )
    assert 0.1 < TimerLoop("test", interval=1.0).pause(elapsed=0.0) <= 0.3
    # Overdue ones do not count, as with a run's timers.
    MachineTimer.objects.update(due_at=now - timedelta(seconds=5))
    DebounceSlot.objects.filter(pk=debounced.pk).update(due_at=now - timedelta(seconds=5))
    assert TimerLoop("test", interval=1.0).pause(elapsed=0.0) == pytest.approx(1.0, abs=0.01)


@pytest.mark.django_db
def test_a_timer_falling_due_during_a_tick_is_fired_at_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def later_sweeper() -> int:
        # The timer falls due while the tick runs, after the timer sweep has looked.
        timer_due_in(0)
        return 0

    monkeypatch.setattr(timers, "_sweepers", {"later": later_sweeper})
    loop = TimerLoop("test", interval=1.0)
    loop.tick()
    assert loop.pause(elapsed=0.0) == MIN_PAUSE
    # The tick after it saw that timer: left behind again, it no longer shortens the pause.
    monkeypatch.setattr(timers, "_sweepers", {})
    loop.tick()
    assert loop.pause(elapsed=0.0) == pytest.approx(1.0)
