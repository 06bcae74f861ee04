"""Circuit breakers and keyed rate limits as a step declares them: frozen, checked when declared.

The shared state (how many failures, when a breaker reopens, each key's next slot) lives in
engine.resilience; this module only says what a declaration is. The guard that enforces them is
installed at start-up (engine.core.context.register_step_guard), so the core runs without it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from engine.core.durations import parse_duration
from engine.core.errors import DefinitionError
from engine.core.expressions import ExpressionError
from engine.core.templates import compile_template

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
MAX_SECONDS = 7 * 24 * 3600.0
OnLimit = Literal["delay", "fail"]


class ResilienceError(DefinitionError):
    """A breaker or rate limit declared wrongly; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise ResilienceError(
            field, "lowercase letters, digits, '.', '_' and '-', at most 100 characters"
        )
    return value


def _count(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ResilienceError(field, f"a whole number from {low} to {high}")
    return value


def _duration(value: Any, field: str) -> float:
    try:
        seconds = value.total_seconds() if isinstance(value, timedelta) else parse_duration(value)
    except ValueError:
        raise ResilienceError(field, "a duration: seconds, or text such as 30s, 5m, 1h") from None
    if not 0 < seconds <= MAX_SECONDS:
        raise ResilienceError(field, "more than 0 seconds and at most 7 days")
    return seconds


@dataclass(frozen=True)
class BreakerSpec:
    """A circuit breaker on one named dependency.

    Closed: calls go through; `failure_threshold` failures within `window` seconds open it
    (or, with `failure_rate`, that share of at least `minimum_calls` calls in the window).
    Open: calls fail fast with CircuitOpen for `cool_down` seconds. Then half-open: up to
    `half_open_probes` calls go through as probes; that many successes close it, one failure
    opens it again.
    """

    name: str
    failure_threshold: int = 5
    window: float = 60.0
    cool_down: float = 30.0
    half_open_probes: int = 1
    failure_rate: float | None = None
    minimum_calls: int = 10

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _count(self.failure_threshold, "failure_threshold", 1, 10_000)
        object.__setattr__(self, "window", _duration(self.window, "window"))
        object.__setattr__(self, "cool_down", _duration(self.cool_down, "cool_down"))
        _count(self.half_open_probes, "half_open_probes", 1, 100)
        _count(self.minimum_calls, "minimum_calls", 1, 100_000)
        if self.failure_rate is not None and (
            isinstance(self.failure_rate, bool)
            or not isinstance(self.failure_rate, int | float)
            or not 0 < self.failure_rate <= 1
        ):
            raise ResilienceError("failure_rate", "a fraction above 0 and at most 1")

    @classmethod
    def from_config(cls, config: Any) -> "BreakerSpec":
        """From a node's `circuit_breaker` option (or a bare name); errors name the field."""
        if isinstance(config, str):
            return cls(name=config)
        if not isinstance(config, Mapping):
            raise ResilienceError("circuit_breaker", "a breaker name or its settings")
        known = {
            "name",
            "failure_threshold",
            "window",
            "cool_down",
            "half_open_probes",
            "failure_rate",
            "minimum_calls",
        }
        for key in config:
            if key not in known:
                raise ResilienceError(str(key), "is not a circuit breaker setting")
        if "name" not in config:
            raise ResilienceError("name", "is required")
        return cls(**dict(config))

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "failure_threshold": self.failure_threshold,
            "window": self.window,
            "cool_down": self.cool_down,
            "half_open_probes": self.half_open_probes,
            "failure_rate": self.failure_rate,
            "minimum_calls": self.minimum_calls,
        }


@dataclass(frozen=True)
class RateLimitSpec:
    """At most `limit` calls per `period` seconds for each key (GCRA, bursts up to `limit`).

    `key` is a template over the step's scope (`{{ input.customer }}` on a node; `{{ args[0].
    customer }}` or `{{ kwargs.customer }}` in code); empty means one key for every call.
    `on_limit="delay"` holds the step durably until its slot; `"fail"` fails the attempt with
    RateLimited (the retry policy decides what follows).
    """

    name: str
    limit: int
    period: float
    key: str = ""
    on_limit: OnLimit = "delay"

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _count(self.limit, "limit", 1, 1_000_000)
        object.__setattr__(self, "period", _duration(self.period, "period"))
        if not isinstance(self.key, str) or len(self.key) > 500:
            raise ResilienceError("key", "a template of at most 500 characters")
        if self.key:
            # Checked now, so a broken template fails where it is written.
            try:
                compile_template(self.key)
            except ExpressionError as wrong:
                raise ResilienceError("key", str(wrong)) from None
        if self.on_limit not in ("delay", "fail"):
            raise ResilienceError("on_limit", "'delay' or 'fail'")

    @classmethod
    def from_config(cls, config: Any) -> "RateLimitSpec":
        """From a node's `rate_limit` option; errors name the field."""
        if not isinstance(config, Mapping):
            raise ResilienceError("rate_limit", "the limit's settings")
        for key in config:
            if key not in {"name", "limit", "period", "key", "on_limit"}:
                raise ResilienceError(str(key), "is not a rate limit setting")
        for required in ("name", "limit", "period"):
            if required not in config:
                raise ResilienceError(required, "is required")
        return cls(**dict(config))

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit": self.limit,
            "period": self.period,
            "key": self.key,
            "on_limit": self.on_limit,
        }


Scope = Mapping[str, Any]
"""What a rate limit's key template is rendered against."""
