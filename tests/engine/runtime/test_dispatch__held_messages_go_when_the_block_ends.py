"""Messages sent inside messages_held() wait for the block to end (each still only after its own
transaction commits), then all go, in the order they were sent; they go even when the block ends
in an error, as what committed inside it must reach a worker. The broker is the real Redis."""

from collections.abc import Iterator

import pytest
from celery.signals import before_task_publish
from django.db import transaction
from django.utils import timezone

from engine.messaging.dispatch import messages_held, wake
from engine.models import Run, RunStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Nobody else advances these runs while the test looks at them.
    pytest.mark.usefixtures("queue_to_ourselves"),
]


def waiting_runs(count: int) -> list[int]:
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(workflow="test-sleep", version="v1", status=RunStatus.WAITING, created_at=now)
        for _ in range(count)
    )
    return [run.pk for run in runs]


@pytest.fixture
def published() -> Iterator[list[int]]:
    """The run ids of the advance messages published meanwhile."""
    sent: list[int] = []

    def record(sender: str, body: tuple[list[int], dict[str, object], object], **_: object) -> None:
        if sender == "engine.advance_run":
            sent.append(body[0][0])

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


def test_messages_go_together_when_the_block_ends(published: list[int]) -> None:
    run_ids = waiting_runs(3)
    with messages_held():
        for run_id in run_ids:
            with transaction.atomic():
                assert wake(run_id)
        assert published == []
    assert published == run_ids


def test_what_committed_goes_even_when_the_block_fails(published: list[int]) -> None:
    first, second = waiting_runs(2)

    def wake_both_then_fail() -> None:
        with messages_held():
            with transaction.atomic():
                wake(first)
            with transaction.atomic():
                wake(second)
                raise RuntimeError("the second transaction rolls back")

    with pytest.raises(RuntimeError):
        wake_both_then_fail()
    assert published == [first]
    assert Run.objects.get(pk=second).status == RunStatus.WAITING
