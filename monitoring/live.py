"""Engine signals become messages in Channels groups, so open pages update live.

Workers send the signals after each commit. Publishing must not slow a worker down: messages go
to the channel layer from a loop of their own, fire and forget; a run's step, progress and
metric messages are coalesced to a few per second (one that comes too soon is held, the latest
of its kind, and sent when its turn comes or just before the run's next status change, which
always goes out at once); and with Redis, only runs that an open socket watches are published
at all (the sockets list themselves in a sorted set the publisher reads up to 4 times a
second). Pages treat a message as "look again": they re-read the run or the inbox over HTTP,
so nothing shown depends on a message arriving, and a page also refreshes now and then.
"""

import asyncio
import logging
import os
import threading
import time
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from engine.messaging.signals import (
    instance_changed,
    run_changed,
    run_metric,
    run_progress,
    step_changed,
    task_changed,
)
from engine.resilience.signals import resilience_changed

logger = logging.getLogger(__name__)

TASKS_GROUP = "tasks"
RUNS_LIST_GROUP = "runs"
RUNS_LIST_INTERVAL_SECONDS = 0.5
DASHBOARD_GROUP = "dashboards"
DASHBOARD_INTERVAL_SECONDS = 0.25
RESILIENCE_GROUP = "resilience"
RESILIENCE_INTERVAL_SECONDS = 0.25
STEP_INTERVAL_SECONDS = 0.2
MESSAGE_TYPE = "live.event"
WATCH_SECONDS = 6 * 3600  # a socket's entry outlives a crashed server by this much at most
WATCHED_REFRESH_SECONDS = 0.25


def run_group(run_id: int) -> str:
    return f"run.{run_id}"


def instance_group(instance_id: int) -> str:
    return f"instance.{instance_id}"


def machine_group(slug: str) -> str:
    # Group names allow letters, digits, hyphens, underscores and periods: slugs fit.
    return f"machine.{slug}"


def watched_key() -> str:
    layer: Any = settings.CHANNEL_LAYERS["default"]
    prefix = layer.get("CONFIG", {}).get("prefix", "stepwise")
    return f"{prefix}:live-watched-runs"


def watch_member(run_id: int, channel_name: str) -> str:
    return f"{run_id}|{channel_name}"


class Publisher:
    """Sends group messages from any thread without waiting for them."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_pid = 0
        self._lock = threading.Lock()
        self._last_sent: dict[int, float] = {}
        self._held: dict[int, dict[str, dict[str, Any]]] = {}
        self._redis: Any = None
        self._watched: frozenset[int] = frozenset()
        self._watched_at = 0.0
        self._coalescing: set[str] = set()
        self._coalesced_at: dict[str, float] = {}

    def adopt_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Publish on the server's own loop: an in-memory layer lives there (embedded default)."""
        self._loop = loop

    def _route(self) -> tuple[Any, asyncio.AbstractEventLoop] | None:
        """The channel layer and the loop that publishes on it; None when nothing can listen."""
        layer = get_channel_layer()
        loop = self._publishing_loop(layer) if layer is not None else None
        return None if loop is None else (layer, loop)

    def _publishing_loop(self, layer: Any) -> asyncio.AbstractEventLoop | None:
        if isinstance(layer, InMemoryChannelLayer):
            # Only the server's loop may touch it; before a socket connected nobody listens.
            return self._loop
        with self._lock:
            # A forked worker child inherits the loop but not the thread that ran it.
            if self._loop is None or self._loop.is_closed() or self._loop_pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="stepwise-live", daemon=True).start()
                self._loop, self._loop_pid = loop, os.getpid()
            return self._loop

    def publish(self, groups: list[str], event: dict[str, Any]) -> None:
        route = self._route()
        if route is None:
            return
        layer, loop = route
        message = {"type": MESSAGE_TYPE, "event": event}
        for group in groups:
            sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
            sent.add_done_callback(_log_failure)

    def publish_run_status(self, run_id: int, event: dict[str, Any]) -> None:
        """A run's status change goes out at once, after the run's held messages (so a page
        that stops listening when the run ends has heard them all)."""
        route = self._route()
        if route is None:
            return
        layer, loop = route
        with self._lock:
            held = self._held.pop(run_id, {})
            self._mark_sent(run_id)
        events = [*held.values(), event]
        sent = asyncio.run_coroutine_threadsafe(_send_in_order(layer, run_id, events), loop)
        sent.add_done_callback(_log_failure)

    def publish_run_detail(self, run_id: int, event: dict[str, Any]) -> None:
        """A step, progress or metric message: at most one per run every 0.2 s. One that comes
        sooner is held (the latest of its kind) and sent when the interval is up, so the last
        change of a burst reaches the page even when no status change follows it."""
        route = self._route()
        if route is None:
            return
        layer, loop = route
        with self._lock:
            held = self._held.get(run_id)
            if held is not None:
                held[event["kind"]] = event
                return
            wait = self._last_sent.get(run_id, 0.0) + STEP_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                self._held[run_id] = {event["kind"]: event}
            else:
                self._mark_sent(run_id)
        if wait > 0:
            loop.call_soon_threadsafe(loop.call_later, wait, self._send_held, layer, run_id)
        else:
            sent = asyncio.run_coroutine_threadsafe(_send_in_order(layer, run_id, [event]), loop)
            sent.add_done_callback(_log_failure)

    def _send_held(self, layer: Any, run_id: int) -> None:
        with self._lock:
            held = self._held.pop(run_id, None)
            if held is None:
                return  # a status change sent them first
            self._mark_sent(run_id)
        sent = asyncio.ensure_future(_send_in_order(layer, run_id, list(held.values())))
        sent.add_done_callback(_log_failure)

    def _mark_sent(self, run_id: int) -> None:
        if len(self._last_sent) > 10_000:
            self._last_sent.clear()
        self._last_sent[run_id] = time.monotonic()

    def publish_coalesced(self, group: str, event: dict[str, Any], interval: float) -> None:
        """Send at most one message per interval to the group, and always one after the last
        call: a burst of a thousand runs ending is a handful of messages, the last one after
        the burst."""
        route = self._route()
        if route is None:
            return
        layer, loop = route
        with self._lock:
            if group in self._coalescing:
                return  # a message is already due and says the same
            self._coalescing.add(group)
            wait = max(0.0, self._coalesced_at.get(group, 0.0) + interval - time.monotonic())
        loop.call_soon_threadsafe(loop.call_later, wait, self._send_coalesced, layer, group, event)

    def _send_coalesced(self, layer: Any, group: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._coalescing.discard(group)
            self._coalesced_at[group] = time.monotonic()
        sent = asyncio.ensure_future(
            layer.group_send(group, {"type": MESSAGE_TYPE, "event": event})
        )
        sent.add_done_callback(_log_failure)

    def watched(self, run_id: int) -> bool:
        """Whether an open socket follows this run (always, without Redis: nothing to save)."""
        if not settings.REDIS_URL:
            return True
        now = time.monotonic()
        if now - self._watched_at > WATCHED_REFRESH_SECONDS:
            self._watched_at = now
            self._watched = self._read_watched()
        return run_id in self._watched

    def _read_watched(self) -> frozenset[int]:
        import redis

        try:
            if self._redis is None:
                self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
            members = self._redis.zrangebyscore(watched_key(), time.time(), "+inf")
        except redis.RedisError as error:
            logger.debug("cannot read the watched runs: %s", error)
            return self._watched
        return frozenset(int(member.split(b"|", 1)[0]) for member in members)


async def _send_in_order(layer: Any, run_id: int, events: list[dict[str, Any]]) -> None:
    for event in events:
        await layer.group_send(run_group(run_id), {"type": MESSAGE_TYPE, "event": event})


def _log_failure(sent: Any) -> None:
    if sent.cancelled():
        return
    error = sent.exception()
    if error is not None:
        logger.debug("a live update was not published: %s", error)


publisher = Publisher()


def on_run_changed(*, run_id: int, workflow: str, status: str, **_: Any) -> None:
    # Dashboards only learn that runs changed: they read the rollups again over HTTP.
    publisher.publish_coalesced(DASHBOARD_GROUP, {"kind": "runs"}, DASHBOARD_INTERVAL_SECONDS)
    # The runs list hears of every run, new ones (pending) included, coalesced.
    publisher.publish_coalesced(RUNS_LIST_GROUP, {"kind": "runs"}, RUNS_LIST_INTERVAL_SECONDS)
    if status == "pending" or not publisher.watched(run_id):
        return  # pending: the page that started or retried it reads it anyway
    event = {"kind": "run", "run": run_id, "workflow": workflow, "status": status}
    publisher.publish_run_status(run_id, event)


def on_step_changed(*, run_id: int, name: str, status: str, **_: Any) -> None:
    if publisher.watched(run_id):
        event = {"kind": "step", "run": run_id, "step": name, "status": status}
        publisher.publish_run_detail(run_id, event)


def on_progress(*, run_id: int, progress: dict[str, Any], **_: Any) -> None:
    if publisher.watched(run_id):
        publisher.publish_run_detail(run_id, {"kind": "progress", "run": run_id, **progress})


def on_metric(*, run_id: int, name: str, value: float, **_: Any) -> None:
    if publisher.watched(run_id):
        event = {"kind": "metric", "run": run_id, "name": name, "value": value}
        publisher.publish_run_detail(run_id, event)


def on_task_changed(*, task_id: int, run_id: int, status: str, event: str, **_: Any) -> None:
    # Only ids go out: each page reads what its user may see over HTTP.
    message = {"kind": "task", "task": task_id, "run": run_id, "status": status, "event": event}
    groups = [TASKS_GROUP, run_group(run_id)] if publisher.watched(run_id) else [TASKS_GROUP]
    publisher.publish(groups, message)


def on_instance_changed(
    *, instance_id: int, machine: str, state: str, status: str, **_: Any
) -> None:
    # Instances change once per event, not per step: every change goes out.
    event = {"kind": "instance", "instance": instance_id, "state": state, "status": status}
    publisher.publish([instance_group(instance_id), machine_group(machine)], event)


def on_resilience_changed(*, kind: str, name: str, **_: Any) -> None:
    # A breaker opening or a limiter taking slots: the page reads them again, a few times a
    # second at most however busy the limiter is.
    publisher.publish_coalesced(
        RESILIENCE_GROUP, {"kind": "resilience"}, RESILIENCE_INTERVAL_SECONDS
    )


def connect_signals() -> None:
    run_changed.connect(on_run_changed, dispatch_uid="live-run")
    step_changed.connect(on_step_changed, dispatch_uid="live-step")
    run_progress.connect(on_progress, dispatch_uid="live-progress")
    run_metric.connect(on_metric, dispatch_uid="live-metric")
    task_changed.connect(on_task_changed, dispatch_uid="live-task")
    instance_changed.connect(on_instance_changed, dispatch_uid="live-instance")
    resilience_changed.connect(on_resilience_changed, dispatch_uid="live-resilience")
