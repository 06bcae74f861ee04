"""The embedded runtime: a Celery worker and the timer loop in threads of the web process.

Only for the embedded default (`make run`): production runs `celery worker` and
`manage.py timer_loop` as their own processes.
"""

import logging
import socket
import threading
from typing import Any

from celery import current_app
from django.conf import settings

from engine.runtime.sweepers import redispatch_all_runnable
from engine.runtime.timers import TimerLoop

logger = logging.getLogger(__name__)


class EmbeddedRuntime:
    """Starts and stops the in-process worker and timer loop together."""

    def __init__(self, concurrency: int = 2) -> None:
        self.concurrency = concurrency
        self.stop_event = threading.Event()
        self.worker: Any = None
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        hostname = f"embedded@{socket.gethostname()}"
        # The project's Celery app (config.celery), made current when Django loaded settings.
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy
        # Heartbeat, mingle and gossip talk to other workers over the broker; alone in the
        # process they only add start-up time.
        self.worker = app.WorkController(
            app=app,
            hostname=hostname,
            pool_cls="threads",
            concurrency=self.concurrency,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            queues=[settings.STEPWISE_QUEUE],
            loglevel="WARNING",
        )
        timer_loop = TimerLoop(
            f"embedded@{socket.gethostname()}", settings.STEPWISE_TIMER_INTERVAL_SECONDS
        )
        self.threads = [
            threading.Thread(target=self.worker.start, name="embedded-worker", daemon=True),
            threading.Thread(
                target=timer_loop.run, args=(self.stop_event,), name="embedded-timers", daemon=True
            ),
        ]
        for thread in self.threads:
            thread.start()
        if not settings.REDIS_URL:
            resumed = redispatch_all_runnable()
            if resumed:
                logger.info("resumed %d runs left running or pending", resumed)
        logger.info("embedded worker and timer loop started")

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.worker is not None:
            self.worker.stop(in_sighandler=False, exitcode=0)
        for thread in self.threads:
            thread.join(timeout)
        logger.info("embedded worker and timer loop stopped")
