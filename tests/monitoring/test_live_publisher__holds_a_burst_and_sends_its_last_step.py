"""A watched run's step messages are coalesced, never lost: in a burst of step changes the first
goes out at once, the ones that come within the interval are held (the latest of its kind), and
the last step's message reaches the run's group on the Redis channel layer about one interval
later, though no status change follows to send it."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.layers import get_channel_layer

from engine.messaging.signals import step_changed
from monitoring.consumers import _set_watching
from monitoring.live import STEP_INTERVAL_SECONDS, WATCHED_REFRESH_SECONDS, run_group, watch_member

pytestmark = pytest.mark.integration

RUN_ID = 9_311  # no table is read: the run is known to the publisher by its id only
BURST = 8
QUIET_SECONDS = 2.0  # long after the held message was due: nothing more may come


async def _burst_heard_by_the_group() -> tuple[float, list[tuple[float, dict[str, Any]]]]:
    """Subscribe a channel to the run's group, mark the run watched, send a burst of step
    changes and collect what the channel hears: when the burst ended, and each message with
    its arrival time."""
    layer: Any = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(run_group(RUN_ID), channel)
    member = watch_member(RUN_ID, channel)
    await _set_watching(member, True)
    heard: list[tuple[float, dict[str, Any]]] = []
    try:
        await asyncio.sleep(WATCHED_REFRESH_SECONDS * 2)  # the publisher rereads the watched set
        for index in range(BURST):
            step_changed.send(sender=None, run_id=RUN_ID, name=f"step-{index}", status="completed")
        burst_ended = time.monotonic()
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), QUIET_SECONDS)
            except TimeoutError:
                return burst_ended, heard
            heard.append((time.monotonic(), message["event"]))
    finally:
        await _set_watching(member, False)
        await layer.group_discard(run_group(RUN_ID), channel)


def test_the_last_step_of_a_burst_arrives_without_a_status_change() -> None:
    # In another thread: Playwright's tests keep an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        burst_ended, heard = pool.submit(asyncio.run, _burst_heard_by_the_group()).result()

    steps = [event["step"] for _, event in heard]
    # The first at once, the last when its interval was up; a slow machine sending the burst
    # for longer than an interval may let one from its middle out too, never all of them.
    assert steps[0] == "step-0" and steps[-1] == f"step-{BURST - 1}", heard
    assert len(steps) < BURST, heard
    assert all(event == {**event, "kind": "step", "run": RUN_ID} for _, event in heard)
    # Sent when the interval was up (a noisy machine may add a little), not at a later change.
    last_arrived = heard[-1][0]
    assert last_arrived - burst_ended < STEP_INTERVAL_SECONDS + 1.0, last_arrived - burst_ended
