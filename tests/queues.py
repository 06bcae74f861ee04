"""Who consumes the session's queue: tests that start their own workers, or advance runs in
this process, keep the session's other workers off it meanwhile."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from config.celery import app as celery_app


@contextmanager
def others_stop_consuming() -> Iterator[None]:
    """Workers already running stop consuming the queue meanwhile.

    Only the workers consuming this session's queue: the broker may be shared with other test
    sessions, and adding our queue back to their workers would let them take our messages.
    """
    queues = celery_app.control.inspect(timeout=1).active_queues() or {}
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
