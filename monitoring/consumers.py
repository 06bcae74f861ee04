"""WebSocket consumers. Every socket needs a logged-in user."""

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from accounts.roles import Capability, capabilities_of
from engine.models import Run
from engine.runtime.masking import NO_MASK, Mask, mask_for
from monitoring.live import (
    DASHBOARD_GROUP,
    RESILIENCE_GROUP,
    RUNS_LIST_GROUP,
    TASKS_GROUP,
    WATCH_SECONDS,
    instance_group,
    machine_group,
    publisher,
    run_group,
    watch_member,
    watched_key,
)


class PingConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Answers {"type": "ping"} with a pong relayed through the channel layer.

    The relay makes the reply cross the channel layer (Redis in production), so a pong proves
    the whole live-update path, not only the socket.
    """

    async def connect(self) -> None:
        # A login is not enough: like every page, a socket needs a role.
        user = self.scope.get("user")
        if user is None or not await database_sync_to_async(_may_view)(user):
            await self.close()
            return
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_json({"type": "error", "detail": 'send {"type": "ping"}'})
            return
        await self.channel_layer.send(
            self.channel_name, {"type": "pong.relay", "id": content.get("id")}
        )

    async def pong_relay(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "pong", "id": message.get("id"), "user": self.scope["user"].get_username()}
        )


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Relays the messages of one Channels group (see monitoring.live) to a page.

    Anyone who may view runs may listen: messages carry ids and statuses only, and the page
    reads the details over HTTP with the user's own permissions.
    """

    group = ""  # set once the socket is accepted

    def group_name(self) -> str:
        raise NotImplementedError

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not await database_sync_to_async(_may_view)(user):
            await self.close()
            return
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            # Embedded default: publishers must use this loop, where the layer lives.
            publisher.adopt_loop(asyncio.get_running_loop())
        self.group = self.group_name()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])


class RunConsumer(LiveConsumer):
    """/ws/runs/<id>/: the run's status, steps, progress, metrics and tasks as they change.

    Step names and progress messages are written by the workflow and can quote its input:
    each socket sends them through its user's mask (engine.runtime.masking).
    """

    mask: Mask = NO_MASK

    def group_name(self) -> str:
        return run_group(self.run_id())

    def run_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["run_id"])

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is not None:
            self.mask = await database_sync_to_async(_mask_of_run)(user, self.run_id())
        await super().connect()
        if self.group:
            # Workers publish only the runs someone watches (see monitoring.live).
            await _set_watching(watch_member(self.run_id(), self.channel_name), True)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await _set_watching(watch_member(self.run_id(), self.channel_name), False)
        await super().disconnect(code)

    async def live_event(self, message: dict[str, Any]) -> None:
        # Numbers in these events are the system's own (counts, metrics): texts are masked.
        await self.send_json(self.mask.value(message["event"], numbers=False))


class RunsListConsumer(LiveConsumer):
    """/ws/runs/: that some run was created or changed status (coalesced: "look again")."""

    def group_name(self) -> str:
        return RUNS_LIST_GROUP


class InboxConsumer(LiveConsumer):
    """/ws/inbox/: that some task was created, decided or closed."""

    def group_name(self) -> str:
        return TASKS_GROUP


class DashboardConsumer(LiveConsumer):
    """/ws/dashboards/: that runs started or ended, a few times a second at most."""

    def group_name(self) -> str:
        return DASHBOARD_GROUP


class ResilienceConsumer(LiveConsumer):
    """/ws/resilience/: that a breaker changed state or a rate limit took slots."""

    def group_name(self) -> str:
        return RESILIENCE_GROUP


class InstanceConsumer(LiveConsumer):
    """/ws/instances/<id>/: that a machine instance changed state or recorded an event."""

    def group_name(self) -> str:
        return instance_group(int(self.scope["url_route"]["kwargs"]["instance_id"]))


class MachineConsumer(LiveConsumer):
    """/ws/machines/<slug>/: that some instance of the machine changed."""

    def group_name(self) -> str:
        return machine_group(str(self.scope["url_route"]["kwargs"]["slug"]))


def _may_view(user: Any) -> bool:
    return Capability.VIEW in capabilities_of(user)


def _mask_of_run(user: Any, run_id: int) -> Mask:
    run = Run.objects.filter(pk=run_id).first()
    return mask_for(user, run) if run is not None else NO_MASK


async def _set_watching(member: str, watching: bool) -> None:
    """Add a socket to the watched runs in Redis, or take it out (without Redis every run is
    published anyway)."""
    if not settings.REDIS_URL:
        return
    import redis.asyncio as redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    try:
        key = watched_key()
        if watching:
            await client.zadd(key, {member: time.time() + WATCH_SECONDS})
        else:
            await client.zrem(key, member)
        # Entries of servers that died without disconnecting their sockets expire.
        await client.zremrangebyscore(key, "-inf", time.time())
    except redis.RedisError:
        pass  # the page still refreshes by itself now and then
    finally:
        await client.aclose()
