"""A delayed transition fires even when the only worker was SIGKILLed while it was pending: the
timer is a row, the timer loop queues the event when it is due, and the next worker to start
applies it, once."""

import time
from pathlib import Path

import pytest

from engine.machines.instances import create_instance, send_event
from engine.machines.publishing import publish_machine
from engine.models import MachineEvent, MachineInstance, MachineTimer
from tests.engine.machines.helpers import wait_applied
from tests.engine.runtime.test_durability__crash_and_scale import (
    kill_hard,
    start_worker,
)
from tests.processes import RunningProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


LAMP = {
    "initial": "off",
    "states": [{"id": "off"}, {"id": "on"}],
    "transitions": [
        {"id": "switch", "source": "off", "event": "switch", "target": "on"},
        {"id": "timeout", "source": "on", "after": "2s", "target": "off"},
    ],
}


@pytest.mark.usefixtures("queue_to_ourselves")
def test_a_pending_delay_fires_after_the_worker_is_killed_and_another_starts(
    stepwise_env: dict[str, str], process_logs: Path, timer_loop: RunningProcess
) -> None:
    publish_machine("lamp", "Lamp", LAMP)
    worker = start_worker(stepwise_env, process_logs)
    try:
        instance = create_instance("lamp", "hall", {})
        send_event(instance.pk, "switch")
        wait_applied(instance.pk, count=2)
        assert MachineInstance.objects.get(pk=instance.pk).state == "on"
        assert MachineTimer.objects.filter(instance=instance).count() == 1
    finally:
        kill_hard(worker)

    # With no worker alive, the timer loop still queues the event once it is due.
    deadline = time.monotonic() + 15
    while not MachineEvent.objects.filter(instance=instance, name="after:timeout").exists():
        assert time.monotonic() < deadline, "the timer loop never queued the delayed transition"
        time.sleep(0.1)
    assert MachineInstance.objects.get(pk=instance.pk).state == "on"  # nobody applied it yet

    worker = start_worker(stepwise_env, process_logs)
    try:
        wait_applied(instance.pk, count=3, timeout=30)
    finally:
        worker.stop()
    fired = MachineEvent.objects.get(instance=instance, name="after:timeout")
    assert (fired.status, fired.from_state, fired.to_state) == ("applied", "on", "off")
    assert MachineInstance.objects.get(pk=instance.pk).state == "off"
    assert not MachineTimer.objects.filter(instance=instance).exists()
    assert MachineEvent.objects.filter(instance=instance).count() == 3  # @start, switch, timeout
