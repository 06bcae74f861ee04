"""The timer loop runs every sweeper each tick (a recovery sweeper at most once a second),
survives a broken one, and records its heartbeat."""

import threading
import time

import pytest

from engine.models import ProcessHeartbeat
from engine.runtime import timers
from engine.runtime.timers import TimerLoop, register_sweeper

pytestmark = pytest.mark.django_db

REGISTERED_CADENCES = dict(timers._cadences)
"""What the engine registered when it started (engine.apps), before a test empties it."""


@pytest.fixture(autouse=True)
def no_registered_sweepers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timers, "_sweepers", {})
    monkeypatch.setattr(timers, "_cadences", {})


def test_a_tick_runs_each_sweeper_and_counts_what_fired() -> None:
    calls: list[str] = []
    register_sweeper("sleeps", lambda: calls.append("sleeps") or 2)
    register_sweeper("retries", lambda: calls.append("retries") or 1)
    assert TimerLoop("t", 0.5).tick() == 3
    assert calls == ["sleeps", "retries"]


def test_a_sweeper_with_a_cadence_skips_the_ticks_in_between() -> None:
    calls: list[str] = []
    register_sweeper("due", lambda: calls.append("due") or 0)
    register_sweeper("recovery", lambda: calls.append("recovery") or 0, at_most_every=0.3)
    loop = TimerLoop("t", 0.05)
    loop.tick()
    loop.tick()
    assert calls == ["due", "recovery", "due"]
    time.sleep(0.35)
    loop.tick()
    assert calls[3:] == ["due", "recovery"]


def test_the_recovery_sweepers_run_at_most_once_a_second() -> None:
    assert {name for name, every in REGISTERED_CADENCES.items() if every} == {
        "recovery",
        "bulkheads",
        "webhooks",
        "machine-queues",
    }
    assert {REGISTERED_CADENCES[name] for name in ("recovery", "webhooks")} == {1.0}
    assert REGISTERED_CADENCES["timers"] == 0.0


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
