"""Who consumes the session's queue: tests that start their own workers, or advance runs in
this process, keep the session's other workers off it meanwhile."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from kombu import Producer

from config.celery import app as celery_app
from tests.processes import workers_on


@contextmanager
def others_stop_consuming() -> Iterator[None]:
    """Workers already running stop consuming the queue meanwhile.

    Only the workers this session started (tests.processes) and that consume its queue: the
    broker may be shared with other test sessions, and adding our queue back to their workers
    would let them take our messages.
    """
    # Asked by name, the answers end the wait as soon as all are in (a broadcast to any
    # worker waited out its whole timeout, a second a test).
    started = workers_on(settings.STEPWISE_QUEUE)
    queues = {}
    if started:
        inspect = celery_app.control.inspect(destination=started, timeout=2, limit=len(started))
        queues = inspect.active_queues() or {}
    others = [
        name
        for name, consumed in queues.items()
        if any(queue.get("name") == settings.STEPWISE_QUEUE for queue in consumed or [])
    ]
    if others:
        celery_app.control.cancel_consumer(settings.STEPWISE_QUEUE, destination=others, reply=True)
    yield
    if others:
        celery_app.control.add_consumer(settings.STEPWISE_QUEUE, destination=others, reply=True)


@contextmanager
def broker_messages() -> Iterator[list[str]]:
    """The names of the tasks published meanwhile (still published: the broker is real)."""
    sent: list[str] = []
    publish = Producer.publish

    def counting(self: Producer, body: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str((kwargs.get("headers") or {}).get("task", "")))
        return publish(self, body, *args, **kwargs)

    Producer.publish = counting  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        Producer.publish = publish  # type: ignore[method-assign]
