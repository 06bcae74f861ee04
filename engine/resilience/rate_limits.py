"""Keyed rate limits by GCRA (the generic cell rate algorithm).

Why GCRA rather than a token bucket with a refill: its whole state per key is one number, the
theoretical arrival time (TAT) of the next call, so a check is one atomic read-modify-write in
the shared store (no refill loop, no clock per bucket), and a refused call learns exactly when
its slot comes, which is what a durable delay needs. With `limit` calls per `period`, calls are
spaced `period / limit` apart and a burst of up to `limit` calls may go at once.
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.errors import RateLimited
from engine.core.expressions import ExpressionError
from engine.core.resilience import RateLimitSpec
from engine.core.templates import render_template
from engine.core.values import to_text
from engine.resilience.definitions import defined_rate_limits, effective_rate_limit
from engine.resilience.signals import resilience_changed
from engine.resilience.state import State, state_store

KIND = "rate_limit"
MAX_KEY = 200


class RateLimitKeyError(ValueError):
    """A rate limit's key template failed on the step's scope."""


def take(state: State | None, spec: RateLimitSpec, now: float) -> tuple[State | None, float]:
    """GCRA: (the new state, 0) if a call may go now, else (the state unchanged, seconds to
    wait for the next slot)."""
    interval = spec.period / spec.limit
    tat = max(float((state or {}).get("tat", now)), now)
    if tat + interval - now > spec.period + 1e-9:
        return state, tat + interval - spec.period - now
    return {"tat": tat + interval, "limit": spec.limit, "period": spec.period}, 0.0


def used(state: State | None, spec: RateLimitSpec, now: float) -> int:
    """Calls counted against the key now (0 to limit): its backlog in slots."""
    tat = float((state or {}).get("tat", now))
    interval = spec.period / spec.limit
    return max(0, min(spec.limit, math.ceil((tat - now) / interval - 1e-9)))


def key_for(spec: RateLimitSpec, scope: Mapping[str, Any]) -> str:
    if not spec.key:
        return ""
    try:
        value = render_template(spec.key, scope, field="rate_limit.key")
    except ExpressionError as wrong:
        raise RateLimitKeyError(f"rate limit {spec.name!r}: key: {wrong}") from None
    return to_text(value)[:MAX_KEY]


def acquire(spec: RateLimitSpec, scope: Mapping[str, Any]) -> None:
    """Take a slot for the key the scope gives, or raise RateLimited with the wait."""
    spec = effective_rate_limit(spec)
    key = key_for(spec, scope)
    wait = state_store().change(
        KIND, spec.name, key, lambda state: take(state, spec, time.time()), spec.period
    )
    if wait > 0:
        raise RateLimited(spec.name, key, wait, defers=spec.on_limit == "delay")
    resilience_changed.send(sender=None, kind=KIND, name=spec.name)


@dataclass(frozen=True)
class LimiterUsage:
    """What the monitor, the admin and the API show of one rate limit."""

    name: str
    limit: int
    period: float
    on_limit: str
    keys: list[tuple[str, int]]
    """(key, calls counted now) of the busiest keys, busiest first."""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit": self.limit,
            "period": self.period,
            "on_limit": self.on_limit,
            "active_keys": len(self.keys),
            "keys": [{"key": key, "used": count} for key, count in self.keys],
        }


def all_rate_limits(top: int = 20) -> list[LimiterUsage]:
    """Every rate limit an administrator defined or a step used within its period."""
    specs = defined_rate_limits()
    by_name: dict[str, list[tuple[str, State]]] = {}
    for stored in state_store().read(KIND):
        by_name.setdefault(stored.name, []).append((stored.key, stored.state))
    now = time.time()
    usages = []
    for name in sorted(set(specs) | set(by_name)):
        entries = by_name.get(name, [])
        spec = specs.get(name) or _stored_spec(name, entries)
        counted = [(key, used(state, spec, now)) for key, state in entries]
        counted = sorted((item for item in counted if item[1]), key=lambda item: -item[1])
        usages.append(LimiterUsage(name, spec.limit, spec.period, spec.on_limit, counted[:top]))
    return usages


def _stored_spec(name: str, entries: list[tuple[str, State]]) -> RateLimitSpec:
    state = entries[0][1] if entries else {}
    return RateLimitSpec(
        name=name, limit=int(state.get("limit", 1)), period=float(state.get("period", 1.0))
    )
