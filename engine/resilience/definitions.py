"""Which settings a breaker or rate limit runs with: the administrator's definition wins.

The rule: a `BreakerDefinition` (or `RateLimitDefinition`) in the admin with the same name
replaces, as a whole, what the step, node or `breaker(...)` call declared; a rate limit's blank
admin key keeps the declared key. Without one, the declaration stands, and a declaration that
leaves a setting out gets BreakerSpec's default. Workers read the admin's definitions at most
every STEPWISE_RESILIENCE_DEFINITIONS_SECONDS (default 5), not once per step.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from django.conf import settings

from engine.core.resilience import BreakerSpec, RateLimitSpec, ResilienceError
from engine.models import BreakerDefinition, RateLimitDefinition

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, BreakerSpec], dict[str, RateLimitSpec]]] = {}


def _max_age() -> float:
    return float(getattr(settings, "STEPWISE_RESILIENCE_DEFINITIONS_SECONDS", 5.0))


def breaker_from_row(row: BreakerDefinition) -> BreakerSpec:
    return BreakerSpec(
        name=row.name,
        failure_threshold=row.failure_threshold,
        window=row.window.total_seconds(),
        cool_down=row.cool_down.total_seconds(),
        half_open_probes=row.half_open_probes,
        failure_rate=row.failure_rate,
        minimum_calls=row.minimum_calls,
    )


def rate_limit_from_row(row: RateLimitDefinition) -> RateLimitSpec:
    return RateLimitSpec(
        name=row.name,
        limit=row.limit,
        period=row.period.total_seconds(),
        key=row.key,
        on_limit="fail" if row.on_limit == "fail" else "delay",
    )


def _load() -> tuple[dict[str, BreakerSpec], dict[str, RateLimitSpec]]:
    with _lock:
        cached = _cache.get("all")
        if cached is not None and time.monotonic() - cached[0] < _max_age():
            return cached[1], cached[2]
    breakers = _specs(BreakerDefinition.objects.all(), breaker_from_row)
    limits = _specs(RateLimitDefinition.objects.all(), rate_limit_from_row)
    with _lock:
        _cache["all"] = (time.monotonic(), breakers, limits)
    return breakers, limits


def _specs[Row: BreakerDefinition | RateLimitDefinition, Spec](
    rows: Iterable[Row], spec_of: Callable[[Row], Spec]
) -> dict[str, Spec]:
    """The specs of the rows that make one. A row the admin's form would refuse (saved before
    it checked, or written around it) is left out, so its name's declaration stands, and is
    logged: one bad row must not fail every step, page and call that reads definitions."""
    specs: dict[str, Spec] = {}
    for row in rows:
        try:
            specs[row.name] = spec_of(row)
        except ResilienceError as broken:
            logger.error(
                "%s %r is ignored until it is corrected in the admin: %s",
                row._meta.verbose_name,
                row.name,
                broken,
            )
    return specs


def forget_definitions() -> None:
    """Read the admin's definitions afresh at the next call (after one was saved here)."""
    with _lock:
        _cache.clear()


def defined_breakers() -> dict[str, BreakerSpec]:
    return dict(_load()[0])


def defined_rate_limits() -> dict[str, RateLimitSpec]:
    return dict(_load()[1])


def effective_breaker(declared: BreakerSpec) -> BreakerSpec:
    return _load()[0].get(declared.name, declared)


def effective_rate_limit(declared: RateLimitSpec) -> RateLimitSpec:
    defined = _load()[1].get(declared.name)
    if defined is None:
        return declared
    return defined if defined.key else replace(defined, key=declared.key)
