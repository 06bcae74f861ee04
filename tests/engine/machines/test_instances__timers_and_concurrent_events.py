"""Instances on real workers: a published machine's delayed transition fires through the timer
loop (once, and not after its state was left), its action nodes run with the instance in
scope, and 50 events sent at once to one instance are applied one at a time in the order
received, each action exactly once, with two worker processes taking part."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config.celery import app as celery_app
from engine.machines.instances import create_instance, send_event
from engine.machines.publishing import publish_machine
from engine.models import Event, MachineEvent, MachineInstance, MachineTimer
from tests.engine.machines.helpers import wait_applied
from tests.engine.runtime.test_durability__crash_and_scale import start_worker
from tests.processes import RunningProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]


def door() -> dict[str, Any]:
    """Opens with the right code, shuts by itself a second later, announces each opening."""
    announce = {
        "type": "action.emit",
        "config": {"type": "Door.opened", "payload": {"door": "{{ instance.key }}"}},
    }
    return {
        "initial": "closed",
        "context": {"code": "1234"},
        "states": [{"id": "closed"}, {"id": "opened", "entry": [announce]}],
        "transitions": [
            {
                "id": "unlock",
                "source": "closed",
                "event": "open",
                "target": "opened",
                "guard": "event.code == context.code",
            },
            {"id": "shut", "source": "opened", "event": "close", "target": "closed"},
            {"id": "auto-close", "source": "opened", "after": "1s", "target": "closed"},
        ],
    }


def test_a_delayed_transition_fires_once_through_the_timer_loop(
    timer_loop: RunningProcess,
) -> None:
    publish_machine("door", "Door", door())
    instance = create_instance("door", "front", {})
    wait_applied(instance.pk)
    send_event(instance.pk, "open", {"code": "0000"})
    wait_applied(instance.pk)
    refused = MachineEvent.objects.get(instance=instance, name="open")
    assert (refused.status, refused.guard) == ("refused", "event.code == context.code")
    assert (
        refused.reason
        == "cannot `open` from `closed`: the guard `event.code == context.code` is false"
    )

    send_event(instance.pk, "open", {"code": "1234"})
    wait_applied(instance.pk)
    instance.refresh_from_db()
    assert (instance.state, instance.version) == ("opened", 1)
    assert list(
        MachineTimer.objects.filter(instance=instance).values_list("transition", flat=True)
    ) == ["auto-close"]
    assert Event.objects.get(type="Door.opened").payload == {"door": "front"}

    deadline = time.monotonic() + 10
    while MachineTimer.objects.filter(instance=instance).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    wait_applied(instance.pk, count=4)
    instance.refresh_from_db()
    assert instance.state == "closed"
    fired = MachineEvent.objects.get(instance=instance, name="after:auto-close")
    assert (fired.status, fired.source, fired.from_state, fired.to_state) == (
        "applied",
        "timer",
        "opened",
        "closed",
    )


def test_leaving_the_state_drops_its_delayed_transition(timer_loop: RunningProcess) -> None:
    publish_machine("door", "Door", door())
    instance = create_instance("door", "back", {})
    send_event(instance.pk, "open", {"code": "1234"})
    send_event(instance.pk, "close")
    wait_applied(instance.pk, count=3)
    assert not MachineTimer.objects.filter(instance=instance).exists()
    time.sleep(1.5)
    assert not MachineEvent.objects.filter(instance=instance, name__startswith="after:").exists()


def _send_tick(instance_id: int, n: int) -> None:
    try:
        send_event(instance_id, "tick", {"n": n}, event_id=f"tick-{n}")
    finally:
        connection.close()


def applied_by(worker: str) -> int:
    stats = celery_app.control.inspect(destination=[worker], timeout=2).stats() or {}
    return int(sum((stats.get(worker) or {}).get("total", {}).values()))


def test_fifty_concurrent_events_on_two_workers_end_as_the_serial_order_gives(
    celery_worker: RunningProcess, stepwise_env: dict[str, str], process_logs: Path
) -> None:
    second = start_worker(stepwise_env, process_logs)
    second_name = f"{second.name}@localhost"
    try:
        instance = create_instance("test-toggle", "t-1", {})
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(lambda n: _send_tick(instance.pk, n), range(50)))
        wait_applied(instance.pk, count=51, timeout=60)
        # Both worker processes took part: the serialisation is the database's, not one
        # worker's queue.
        assert applied_by(second_name) > 0
        assert applied_by(celery_worker.name) > 0
    finally:
        second.stop()

    instance = MachineInstance.objects.get(pk=instance.pk)
    ticks = list(MachineEvent.objects.filter(instance=instance, name="tick").order_by("id"))
    assert len(ticks) == 50
    assert {event.status for event in ticks} == {"applied"}
    # The serial order is the order received: each event saw the context the one before left.
    assert instance.context["seen"] == [event.data["n"] for event in ticks]
    assert instance.state == "even"  # 50 toggles from even
    assert [(e.from_state, e.to_state) for e in ticks[:2]] == [("even", "odd"), ("odd", "even")]
    runs = [event.run_id for event in ticks]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, executions FROM test_side_effects WHERE step = 'tick' "
            "AND split_part(key, ':', 2)::int = ANY(%s)",
            [runs],
        )
        effects = dict(cursor.fetchall())
    assert len(effects) == 50
    assert set(effects.values()) == {1}
