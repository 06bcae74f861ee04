"""The timer loop runs every sweeper each tick, survives a broken one, and records its heartbeat."""

import threading

import pytest

from engine.models import ProcessHeartbeat
from engine.runtime import timers
from engine.runtime.timers import TimerLoop, register_sweeper

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_registered_sweepers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timers, "_sweepers", {})


def test_a_tick_runs_each_sweeper_and_counts_what_fired() -> None:
    calls: list[str] = []
    register_sweeper("sleeps", lambda: calls.append("sleeps") or 2)
    register_sweeper("retries", lambda: calls.append("retries") or 1)
    assert TimerLoop("t", 0.5).tick() == 3
    assert calls == ["sleeps", "retries"]


def test_a_failing_sweeper_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> int:
        raise RuntimeError("boom")

    register_sweeper("broken", broken)
    register_sweeper("fine", lambda: 1)
    assert TimerLoop("t", 0.5).tick() == 1
    assert "timer sweeper broken failed" in caplog.text


def test_each_tick_records_a_heartbeat_with_its_interval() -> None:
    loop = TimerLoop("timers@test", 0.25)
    loop.tick()
    first = ProcessHeartbeat.objects.get(kind="timer", name="timers@test")
    loop.tick()
    second = ProcessHeartbeat.objects.get(kind="timer", name="timers@test")
    assert second.last_seen >= first.last_seen
    assert second.details["interval"] == 0.25
    assert second.details["ticks"] == 2


@pytest.mark.django_db(transaction=True)
def test_run_stops_when_told() -> None:
    ticked = threading.Event()
    register_sweeper("signal", lambda: ticked.set() or 0)
    stop = threading.Event()
    loop = TimerLoop("timers@thread", 0.01)
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    assert ticked.wait(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert loop.ticks >= 1
