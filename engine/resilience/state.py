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
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

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
            row = self._locked_row(kind, name, key)
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

    @staticmethod
    def _locked_row(kind: str, name: str, key: str) -> ResilienceState:
        """The row, created if missing and locked for the transaction.

        Insert-if-missing first, so that two workers lock the same row instead of both seeing
        none. The retention sweep may delete a lapsed row between the insert and the lock
        (prune_lapsed_states): then the insert is simply made again.
        """
        for _ in range(5):
            ResilienceState.objects.bulk_create(
                [ResilienceState(kind=kind, name=name, key=key, state={})],
                ignore_conflicts=True,
            )
            found = (
                ResilienceState.objects.select_for_update()
                .filter(kind=kind, name=name, key=key)
                .first()
            )
            if found is not None:
                return found
        raise RuntimeError(f"resilience state {kind} {name!r} {key!r} keeps disappearing")

    def read(self, kind: str, name: str | None = None) -> list[Stored]:
        rows = ResilienceState.objects.filter(kind=kind, expires_at__gt=datetime.now(UTC))
        if name is not None:
            rows = rows.filter(name=name)
        return [Stored(row.name, row.key, row.state) for row in rows.order_by("name", "key")]


PRUNE_BATCH = 1000


def prune_lapsed_states(now: datetime | None = None) -> int:
    """Delete the database backend's lapsed rows (a rate limit's key after its period, a
    breaker nobody called for a while), a batch at a time; returns how many went.

    A lapsed row reads as no state at all, so deleting one changes nothing a worker sees; a row
    a worker is changing right now is locked and skipped, and its new expiry keeps it.
    """
    moment = now or datetime.now(UTC)
    with transaction.atomic():
        ids = list(
            ResilienceState.objects.filter(expires_at__lte=moment)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not ids:
            return 0
        ResilienceState.objects.filter(pk__in=ids).delete()
    return len(ids)


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


_STORE_SETTINGS = frozenset({"STEPWISE_RESILIENCE_STATE", "REDIS_URL", "CHANNEL_LAYERS"})


@receiver(setting_changed)
def _choose_the_store_again(*, setting: str, **_: Any) -> None:
    # Settings change only under override_settings: without this, a store chosen inside an
    # override outlived it, and the process then read state the workers never wrote.
    if setting in _STORE_SETTINGS:
        state_store.cache_clear()
