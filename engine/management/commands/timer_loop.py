"""Run the timer loop as its own process (production; `make run` embeds it)."""

import signal
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from engine.runtime.timers import TimerLoop


class Command(BaseCommand):
    help = "Fire due timers (sleeps, retries, timeouts, schedules) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=f"timers@{socket.gethostname()}")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.STEPWISE_TIMER_INTERVAL_SECONDS,
            help="Seconds between two sweeps.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Timer loop {options['name']} running; Ctrl-C stops it.")
        TimerLoop(options["name"], options["interval"]).run(stop)
