"""An instance whose applying run ended without committing (an operator cancelled it, or it
failed for good) does not wait for ever: the sweeper marks that event failed and starts the
next pending one, without another event having to arrive."""

import pytest

from engine.machines.instances import create_instance, send_event
from engine.machines.timers import free_stalled_queues
from engine.models import MachineEvent, MachineInstance, Run

pytestmark = pytest.mark.django_db


def test_the_sweeper_fails_the_stranded_event_and_starts_the_next() -> None:
    instance = create_instance("test-toggle", "stalled", {})
    start = MachineEvent.objects.get(instance=instance, name="@start")
    first_run = start.run_id
    assert first_run is not None
    send_event(instance.pk, "tick", {"n": 1})
    assert free_stalled_queues() == 0  # its run is still going: nothing to free

    Run.objects.filter(pk=first_run).update(status="cancelled")
    assert free_stalled_queues() == 1
    start.refresh_from_db()
    assert start.status == "failed"
    assert "ended cancelled before it was applied" in start.reason
    tick = MachineEvent.objects.get(instance=instance, name="tick")
    assert tick.status == "applying" and tick.run_id not in (None, first_run)
    assert MachineInstance.objects.get(pk=instance.pk).applying_id == tick.run_id
    assert free_stalled_queues() == 0
