"""Serve Stepwise with Daphne and, unless told not to, an in-process worker and timer loop."""

import logging
import os
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Serve Stepwise on Daphne (HTTP and WebSockets) with an in-process Celery worker and "
        "timer loop: the embedded default that `make run` starts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the in-process worker and timer loop (they run elsewhere).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: importing daphne.server installs Twisted's asyncio reactor, which
        # other management commands have no use for.
        from channels.routing import get_default_application
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from engine.runtime.embedded import EmbeddedRuntime

        if options["no_worker"] and not settings.REDIS_URL:
            raise CommandError(
                "--no-worker needs REDIS_URL: without it the broker lives inside this process "
                "and no other worker could receive a task"
            )
        host, port = options["host"], options["port"]
        runtime = None if options["no_worker"] else EmbeddedRuntime()
        server = Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            verbosity=0,
            ready_callable=lambda: self._announce(host, port, with_worker=runtime is not None),
        )
        # A shell that starts this in the background ignores SIGINT for it, and Twisted then
        # leaves Ctrl-C alone: restore Python's handler so Twisted installs its own.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if runtime is not None:
            runtime.start()
        try:
            server.run()
        finally:
            if runtime is not None:
                runtime.stop()
            self.stdout.write("Stepwise stopped.")

    def _announce(self, host: str, port: int, *, with_worker: bool) -> None:
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = "Redis" if settings.REDIS_URL else "in-memory broker"
        worker = (
            f"in-process worker and timer loop on the {broker}"
            if with_worker
            else ("no in-process worker")
        )
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(
            self.style.SUCCESS(f"Stepwise is serving at http://{shown_host}:{port}/")
            + f"  ({database}, {worker}; Ctrl-C stops it)"
        )
        self.stdout.flush()
