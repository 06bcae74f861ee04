"""Where breakers and rate limits keep their state, shared by every worker process.

Redis when REDIS_URL is configured (one key per breaker or rate-limit key, changed with
WATCH/MULTI so that concurrent workers never lose an update), the database otherwise (one
`ResilienceState` row, changed under SELECT … FOR UPDATE), so the embedded default works with
nothing to install. Either way a change is a function of the old state: the backends only make
it atomic. `STEPWISE_RESILIENCE_STATE` ("redis" or "database") picks one explicitly.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar

import redis
from django.conf import settings
from django.db import transaction

from engine.models import ResilienceState

T = TypeVar("T")
State = dict[str, Any]
Change = Callable[[State | None], tuple[State | None, T]]
"""Given the stored state (None: none yet), the state to store (None: delete it) and a result."""


@dataclass(frozen=True)
class Stored:
    name: str
    key: str
    state: State


class StateStore(Protocol):
    def change(self, kind: str, name: str, key: str, change: Change[T], ttl: float) -> T:
        """Apply `change` atomically; the state lapses `ttl` seconds after this change."""
        ...

    def read(self, kind: str, name: str | None = None) -> list[Stored]:
        """Every live state of a kind (of one name)."""
        ...


class RedisStore:
    """States as JSON strings under `<prefix>:resilience:<kind>:<name>:<key>`, with an index
    (a sorted set scored by expiry) per kind for the monitor's listing."""

    def __init__(self, url: str, prefix: str) -> None:
        self.redis = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:resilience"

    def _key(self, kind: str, name: str, key: str) -> str:
        return f"{self.prefix}:{kind}:{name}:{key}"

    def _index(self, kind: str) -> str:
        return f"{self.prefix}:{kind}:index"

    def change(self, kind: str, name: str, key: str, change: Change[T], ttl: float) -> T:
        redis_key = self._key(kind, name, key)
        member = json.dumps([name, key])
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(redis_key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(redis_key)
                    new, result = change(json.loads(raw) if raw else None)
                    pipe.multi()
                    if new is None:
                        pipe.delete(redis_key)
                        pipe.zrem(self._index(kind), member)
                    else:
                        pipe.set(redis_key, json.dumps(new), px=max(1, int(ttl * 1000)))
                        pipe.zadd(self._index(kind), {member: time.time() + ttl})
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another worker changed it first: decide again on its state

    def read(self, kind: str, name: str | None = None) -> list[Stored]:
        index = self._index(kind)
        self.redis.zremrangebyscore(index, "-inf", time.time())
        raws: list[bytes] = list(self.redis.zrange(index, 0, -1))  # type: ignore[arg-type]
        members = [json.loads(raw) for raw in raws]
        if name is not None:
            members = [member for member in members if member[0] == name]
        if not members:
            return []
        values = self.redis.mget([self._key(kind, n, k) for n, k in members])
        return [
            Stored(n, k, json.loads(raw))
            for (n, k), raw in zip(members, values, strict=True)
            if raw is not None
        ]


class DatabaseStore:
    """States as `ResilienceState` rows; a change locks its row for its transaction."""

    def change(self, kind: str, name: str, key: str, change: Change[T], ttl: float) -> T:
        now = datetime.now(UTC)
        with transaction.atomic():
            # Insert-if-missing first, so that two workers lock the same row instead of both
            # seeing none.
            ResilienceState.objects.bulk_create(
                [ResilienceState(kind=kind, name=name, key=key, state={})],
                ignore_conflicts=True,
            )
            row = ResilienceState.objects.select_for_update().get(kind=kind, name=name, key=key)
            lapsed = row.expires_at is not None and row.expires_at <= now
            old = None if lapsed or not row.state else row.state
            new, result = change(old)
            if new is None:
                row.delete()
            else:
                row.state = new
                row.expires_at = now + timedelta(seconds=ttl)
                row.save(update_fields=["state", "expires_at", "updated_at"])
            return result

    def read(self, kind: str, name: str | None = None) -> list[Stored]:
        rows = ResilienceState.objects.filter(kind=kind, expires_at__gt=datetime.now(UTC))
        if name is not None:
            rows = rows.filter(name=name)
        return [Stored(row.name, row.key, row.state) for row in rows.order_by("name", "key")]


@cache
def state_store() -> StateStore:
    """The process's store, as the settings choose it."""
    choice = getattr(settings, "STEPWISE_RESILIENCE_STATE", "")
    url = getattr(settings, "REDIS_URL", "") or ""
    if choice == "database" or (choice != "redis" and not url):
        return DatabaseStore()
    layer: Any = settings.CHANNEL_LAYERS["default"]
    prefix = layer.get("CONFIG", {}).get("prefix", "stepwise")
    return RedisStore(url, prefix)
