"""The timer loop: a periodic tick that fires due timers and reports its own heartbeat.

Later capabilities (durable sleep, retry back-off, wait timeouts, schedules) register sweepers
that claim due rows with SELECT ... FOR UPDATE SKIP LOCKED, so several loops are safe.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from engine.runtime.heartbeat import process_details, record_heartbeat

logger = logging.getLogger(__name__)

Sweeper = Callable[[], int]
"""A function that fires what is due and returns how many things it fired."""

_sweepers: dict[str, Sweeper] = {}
_cadences: dict[str, float] = {}
_on_start: dict[str, Callable[[], object]] = {}
_next_due: dict[str, Callable[[datetime], datetime | None]] = {}

MIN_PAUSE = 0.01
"""Seconds between ticks at the least."""


RECOVERY_SECONDS = 1.0
"""How often, at most, the sweepers that recover from failures run (lost work, lapsed bulkhead
slots, lost webhook tasks, stalled machine queues): what they find waited seconds already.
A shorter interval is for due times (sleeps, retries, timeouts), and every sweep is queries."""


def register_sweeper(name: str, sweeper: Sweeper, *, at_most_every: float = 0.0) -> None:
    """`sweeper` runs each tick, or, with `at_most_every` seconds, at the first tick once that
    long has passed since it last ran."""
    _sweepers[name] = sweeper
    _cadences[name] = at_most_every


def register_next_due(name: str, source: Callable[[datetime], datetime | None]) -> None:
    """When the next thing a sweeper fires is due, so the loop wakes for it, not a tick later.

    The source is given the moment the last tick began and names the first thing due after it:
    what fell due while the tick ran was not there for the sweeper to see.
    """
    _next_due[name] = source


def first_due_after(rows: Any, after: datetime) -> datetime | None:
    """The first `due_at` of `rows` (a queryset) after `after`, the moment the loop's last tick
    began: a source for register_next_due.

    One due before then was there for the tick's sweep: fired, or held by another loop, or
    failing to fire; counting it would make the loop spin at its shortest pause. One that fell
    due while the tick ran is counted though already due: it waits a moment, not an interval.
    """
    upcoming = rows.filter(due_at__gt=after).order_by("due_at")
    return upcoming.values_list("due_at", flat=True).first()  # type: ignore[no-any-return]


def register_on_start(name: str, task: Callable[[], object]) -> None:
    """Something each timer loop does once when it starts (e.g. syncing declared schedules)."""
    _on_start[name] = task


class TimerLoop:
    """Runs every registered sweeper once per interval until told to stop."""

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.started_at = timezone.now()
        self.ticks = 0
        self.tick_began: datetime | None = None
        self.last_swept: dict[str, float] = {}

    def tick(self) -> int:
        """Run each sweeper once, then record the heartbeat; returns how many things fired."""
        self.tick_began = timezone.now()
        fired = 0
        for sweeper_name, sweeper in list(_sweepers.items()):
            began = time.monotonic()
            last = self.last_swept.get(sweeper_name)
            if last is not None and began - last < _cadences.get(sweeper_name, 0.0):
                continue
            self.last_swept[sweeper_name] = began
            try:
                fired += sweeper()
            except Exception:
                # One broken sweeper must not stop the others or the loop.
                logger.exception("timer sweeper %s failed", sweeper_name)
        self.ticks += 1
        record_heartbeat(
            "timer",
            self.name,
            self.started_at,
            process_details() | {"interval": self.interval, "ticks": self.ticks},
        )
        return fired

    def start_up(self) -> None:
        """Run each start-up task once; a failing one is logged and the loop starts anyway."""
        for task_name, task in list(_on_start.items()):
            try:
                task()
            except Exception:
                logger.exception("timer start-up task %s failed", task_name)

    def pause(self, elapsed: float) -> float:
        """Seconds until the next tick: the interval, or less when something falls due sooner."""
        pause = self.interval - elapsed
        now = timezone.now()
        for source_name, source in list(_next_due.items()):
            try:
                due = source(self.tick_began or now)
            except Exception:
                logger.exception("timer source %s failed to say when it is next due", source_name)
                continue
            if due is not None:
                pause = min(pause, (due - now).total_seconds())
        return max(MIN_PAUSE, pause)

    def run(self, stop: threading.Event) -> None:
        self.started_at = timezone.now()
        close_old_connections()
        self.start_up()
        logger.info("timer loop %s started (every %ss)", self.name, self.interval)
        while not stop.is_set():
            began = time.monotonic()
            # A long-lived loop must drop connections the database has closed meanwhile.
            close_old_connections()
            try:
                self.tick()
            except Exception:
                logger.exception("timer loop tick failed; retrying")
            stop.wait(self.pause(time.monotonic() - began))
        logger.info("timer loop %s stopped", self.name)
