"""Circuit breakers: the state machine, the `breaker(...)` context manager, status and reset.

The transitions are plain functions of (state, spec, now), applied atomically by the shared
store (engine.resilience.state), so every worker sees one breaker. A state is
`{"status", "failures": [times], "buckets": [[start, calls, failures]], "opened_at",
"open_until", "probes", "probe_until", "successes"}` with times in epoch seconds.

What counts as a failure: any exception out of the guarded call, except a NonRetryableError
(the dependency answered, e.g. a declined card: it is up) and another breaker's or a rate
limit's fail-fast error (the call never reached this dependency). A workflow that suspends or
is cancelled inside the call only returns its probe.
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.core.errors import CircuitOpen, NonRetryableError, RetryLater
from engine.core.resilience import BreakerSpec
from engine.resilience.definitions import defined_breakers, effective_breaker
from engine.resilience.signals import resilience_changed
from engine.resilience.state import State, state_store

KIND = "breaker"
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
BUCKETS = 10  # the failure-rate window is counted in this many slices
HALF_OPEN_RETRY = 1.0
"""Seconds a call refused while the probes run waits before it asks again."""


def closed_state() -> State:
    return {
        "status": CLOSED,
        "failures": [],
        "buckets": [],
        "opened_at": None,
        "open_until": None,
        "probes": 0,
        "probe_until": None,
        "successes": 0,
    }


def _open(state: State, spec: BreakerSpec, now: float) -> State:
    return {
        **closed_state(),
        "status": OPEN,
        "opened_at": now,
        "open_until": now + spec.cool_down,
        "opens": int(state.get("opens", 0)) + 1,
    }


def admit(state: State | None, spec: BreakerSpec, now: float) -> tuple[State, bool]:
    """Let a call through (returning whether it is a probe) or raise CircuitOpen."""
    state = dict(state or closed_state())
    if state["status"] == OPEN:
        if now < state["open_until"]:
            raise CircuitOpen(spec.name, state["open_until"] - now)
        state.update(status=HALF_OPEN, probes=0, successes=0, probe_until=None)
    if state["status"] == HALF_OPEN:
        # A probe whose worker died never reports: after a cool-down its slot is free again.
        if state["probe_until"] is not None and now >= state["probe_until"]:
            state["probes"] = 0
        if state["probes"] + state["successes"] >= spec.half_open_probes:
            raise CircuitOpen(spec.name, HALF_OPEN_RETRY, state=HALF_OPEN)
        state["probes"] += 1
        state["probe_until"] = now + spec.cool_down
        return state, True
    return state, False


def record(state: State | None, spec: BreakerSpec, now: float, ok: bool, probe: bool) -> State:
    """The state after a call that was let through ended (ok or failed)."""
    state = dict(state or closed_state())
    if probe and state["status"] == HALF_OPEN:
        state["probes"] = max(0, state["probes"] - 1)
        if not ok:
            return _open(state, spec, now)
        state["successes"] += 1
        if state["successes"] >= spec.half_open_probes:
            return {**closed_state(), "opens": state.get("opens", 0)}
        return state
    if state["status"] != CLOSED:
        return state  # began before it opened: its outcome changes nothing now
    since = now - spec.window
    failures = [at for at in state["failures"] if at > since]
    if not ok:
        failures = [*failures, now][-spec.failure_threshold :]
    state["failures"] = failures
    state["buckets"] = _count(state["buckets"], spec, now, ok)
    if len(failures) >= spec.failure_threshold and spec.failure_rate is None:
        return _open(state, spec, now)
    if spec.failure_rate is not None:
        calls = sum(bucket[1] for bucket in state["buckets"])
        failed = sum(bucket[2] for bucket in state["buckets"])
        if calls >= spec.minimum_calls and failed / calls >= spec.failure_rate:
            return _open(state, spec, now)
    return state


def _count(buckets: list[list[float]], spec: BreakerSpec, now: float, ok: bool) -> list[Any]:
    if spec.failure_rate is None:
        return []
    width = spec.window / BUCKETS
    start = math.floor(now / width) * width
    kept = [bucket for bucket in buckets if bucket[0] > now - spec.window]
    if kept and kept[-1][0] == start:
        kept[-1] = [start, kept[-1][1] + 1, kept[-1][2] + (not ok)]
    else:
        kept.append([start, 1, int(not ok)])
    return kept


def _ttl(spec: BreakerSpec) -> float:
    # Long enough to outlive the window and a cool-down with its probes; a breaker nobody
    # called for that long starts closed again, as it would have anyway.
    return spec.window + 2 * spec.cool_down + 60


def _changed(name: str, before: str, after: str) -> None:
    if before != after:
        resilience_changed.send(sender=None, kind=KIND, name=name)


def enter(spec: BreakerSpec) -> bool:
    """Ask the shared breaker to let a call through; True if it goes as a half-open probe."""
    seen: dict[str, str] = {}

    def change(state: State | None) -> tuple[State | None, bool]:
        seen["before"] = (state or {}).get("status", CLOSED)
        try:
            new, probe = admit(state, spec, time.time())
        except CircuitOpen:
            seen["after"] = seen["before"]
            raise
        seen["after"] = new["status"]
        return {**new, "spec": spec.as_json()}, probe

    probe = state_store().change(KIND, spec.name, "", change, _ttl(spec))
    _changed(spec.name, seen["before"], seen["after"])
    return probe


def leave(spec: BreakerSpec, *, ok: bool, probe: bool) -> None:
    """Report how a call that went through ended."""
    seen: dict[str, str] = {}

    def change(state: State | None) -> tuple[State | None, None]:
        seen["before"] = (state or {}).get("status", CLOSED)
        new = record(state, spec, time.time(), ok, probe)
        seen["after"] = new["status"]
        return {**new, "spec": spec.as_json()}, None

    state_store().change(KIND, spec.name, "", change, _ttl(spec))
    _changed(spec.name, seen["before"], seen["after"])


def give_back_probe(spec: BreakerSpec) -> None:
    """A probe that neither succeeded nor failed (the run suspended or was cancelled)."""

    def change(state: State | None) -> tuple[State | None, None]:
        if state and state["status"] == HALF_OPEN:
            state = {**state, "probes": max(0, state["probes"] - 1)}
        return state, None

    state_store().change(KIND, spec.name, "", change, _ttl(spec))


@contextmanager
def guarded(spec: BreakerSpec) -> Iterator[None]:
    """Run the block through the breaker `spec` (already resolved against the admin's)."""
    probe = enter(spec)
    try:
        yield
    except NonRetryableError:
        leave(spec, ok=True, probe=probe)
        raise
    except RetryLater:
        if probe:
            give_back_probe(spec)
        raise
    except Exception:
        leave(spec, ok=False, probe=probe)
        raise
    except BaseException:
        if probe:
            give_back_probe(spec)
        raise
    leave(spec, ok=True, probe=probe)


@contextmanager
def breaker(name: str, **settings: Any) -> Iterator[None]:
    """`with breaker("payments-api"):` inside a step: calls fail fast while it is open.

    Settings are BreakerSpec's (failure_threshold=, window=, cool_down=, half_open_probes=,
    failure_rate=, minimum_calls=); an administrator's definition of the name overrides them.
    """
    with guarded(effective_breaker(BreakerSpec(name=name, **settings))):
        yield


@dataclass(frozen=True)
class BreakerStatus:
    """What the monitor, the admin and the API show of one breaker."""

    name: str
    status: str
    failures_in_window: int
    opened_at: float | None
    open_until: float | None
    probes: int
    opens: int
    spec: BreakerSpec

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.status,
            "failures_in_window": self.failures_in_window,
            "opened_at": _iso(self.opened_at),
            "open_until": _iso(self.open_until),
            "probes_in_flight": self.probes,
            "times_opened": self.opens,
            "settings": self.spec.as_json(),
        }


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def status_of(name: str, state: State | None, spec: BreakerSpec, now: float) -> BreakerStatus:
    state = state or closed_state()
    status = state["status"]
    if status == OPEN and now >= state["open_until"]:
        status = HALF_OPEN  # the next call will find it so
    failures = [at for at in state["failures"] if at > now - spec.window]
    return BreakerStatus(
        name=name,
        status=status,
        failures_in_window=len(failures) if status == CLOSED else 0,
        opened_at=state.get("opened_at"),
        open_until=state.get("open_until") if status == OPEN else None,
        probes=int(state.get("probes", 0)),
        opens=int(state.get("opens", 0)),
        spec=spec,
    )


def all_breakers() -> list[BreakerStatus]:
    """Every breaker an administrator defined or a step used lately, by name."""
    stored = {item.name: item.state for item in state_store().read(KIND)}
    specs = defined_breakers()
    for name, state in stored.items():
        if name not in specs:
            specs[name] = _stored_spec(name, state)
    now = time.time()
    return [status_of(name, stored.get(name), specs[name], now) for name in sorted(specs)]


def breaker_status(name: str) -> BreakerStatus | None:
    """One breaker's status, or None if it is neither defined nor used lately."""
    stored = state_store().read(KIND, name)
    spec = defined_breakers().get(name)
    if spec is None and not stored:
        return None
    state = stored[0].state if stored else None
    return status_of(name, state, spec or _stored_spec(name, state or {}), time.time())


def _stored_spec(name: str, state: State) -> BreakerSpec:
    try:
        return BreakerSpec.from_config({**(state.get("spec") or {}), "name": name})
    except ValueError:
        return BreakerSpec(name=name)


def reset(name: str) -> None:
    """Close the breaker at once and forget its failures (an operator's action); it stays
    listed, with its settings and how often it opened."""

    def change(state: State | None) -> tuple[State | None, None]:
        kept: State = {key: state[key] for key in ("spec", "opens") if state and key in state}
        return {**closed_state(), **kept}, None

    spec = breaker_status(name)
    ttl = _ttl(spec.spec) if spec is not None else 3600.0
    state_store().change(KIND, name, "", change, ttl)
    resilience_changed.send(sender=None, kind=KIND, name=name)
