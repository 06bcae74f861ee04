"""Worker processes of the resilience tests' own (the limits are observed on them alone), and
the messages a test sent to workers."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.signals import before_task_publish

from engine.messaging.dispatch import ADVANCE_RUN
from engine.resilience.bulkheads import keeper
from tests.engine.runtime.test_durability__crash_and_scale import start_worker
from tests.processes import RunningProcess
from tests.queues import others_stop_consuming


@pytest.fixture(scope="package")
def two_workers(stepwise_env: dict[str, str], process_logs: Path) -> Iterator[list[RunningProcess]]:
    """Two `celery worker` processes (prefork, two children each), the only ones consuming.

    Started once for the package: starting a worker costs seconds. A test that kills one puts
    its replacement in the list.
    """
    with others_stop_consuming():
        workers = [start_worker(stepwise_env, process_logs, concurrency=2) for _ in range(2)]
        yield workers
        for worker in workers:
            worker.stop()


@pytest.fixture(autouse=True)
def forget_held_slots() -> Iterator[None]:
    """Slots a test took in this process are not renewed after it (its database is gone)."""
    yield
    with keeper.lock:
        keeper.held.clear()


@pytest.fixture
def published() -> Iterator[list[int]]:
    """The run ids of the advance messages published meanwhile, in the order they went."""
    sent: list[int] = []

    def record(sender: str, body: tuple[list[int], dict[str, object], object], **_: object) -> None:
        if sender == ADVANCE_RUN:
            sent.append(body[0][0])

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)
