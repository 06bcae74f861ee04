"""Retry policies for steps: attempts, back-off, jitter, and which errors are retried."""

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.core.durations import parse_duration
from engine.core.error_kinds import error_kind, unknown_kinds
from engine.core.errors import DefinitionError, NonRetryableError, RetryLater

Backoff = Literal["exponential", "linear", "fixed"]


@dataclass(frozen=True)
class Retry:
    """How often and how patiently a failing step is tried again."""

    max_attempts: int = 3
    backoff: Backoff = "exponential"
    initial_delay: float = 1.0
    max_delay: float = 300.0
    multiplier: float = 2.0
    jitter: float = 0.1
    non_retryable: tuple[type[BaseException], ...] = field(default_factory=tuple)
    non_retryable_kinds: frozenset[str] = frozenset()
    """Kinds of error (engine.core.error_kinds) that fail the step at once: a graph node's
    `retry.non_retryable`."""
    retry_on_kinds: frozenset[str] = frozenset()
    """When not empty, the only kinds of error retried; any other error fails the step at once:
    a graph node's `retry.retry_on`. Not given together with `non_retryable_kinds`."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise DefinitionError("Retry.max_attempts must be at least 1")
        if self.backoff not in ("exponential", "linear", "fixed"):
            raise DefinitionError("Retry.backoff must be 'exponential', 'linear' or 'fixed'")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise DefinitionError("Retry delays cannot be negative")
        if not 0 <= self.jitter <= 1:
            raise DefinitionError("Retry.jitter is a fraction between 0 and 1")
        for kind in self.non_retryable:
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                raise DefinitionError("Retry.non_retryable takes exception classes")
        for name in ("non_retryable_kinds", "retry_on_kinds"):
            kinds = getattr(self, name)
            if isinstance(kinds, str):
                raise DefinitionError(f"Retry.{name} takes a set of error kinds")
            # Any iterable of names is accepted; kept as a frozenset so the policy stays hashable.
            object.__setattr__(self, name, frozenset(kinds))
            unknown = unknown_kinds(getattr(self, name))
            if unknown:
                raise DefinitionError(f"Retry.{name}: no error kind {unknown[0]!r}")
        # Both at once would leave a reader to guess which list wins for a kind in neither.
        if self.retry_on_kinds and self.non_retryable_kinds:
            raise DefinitionError(
                "Retry: give either retry_on_kinds or non_retryable_kinds, not both"
            )

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether another attempt follows the failed attempt number `attempt` (1-based)."""
        if isinstance(error, RetryLater) and error.defers:
            return True  # the step never ran: waiting for its slot is not a failure
        if attempt >= self.max_attempts:
            return False
        if self.non_retryable_kinds and error_kind(error) in self.non_retryable_kinds:
            return False
        if self.retry_on_kinds and error_kind(error) not in self.retry_on_kinds:
            return False
        return not isinstance(error, (NonRetryableError, *self.non_retryable))

    def wait_after(self, error: BaseException, attempt: int, seed: str = "") -> float:
        """Seconds before the next attempt: the back-off, but never less than what the
        dependency asked for (an open breaker's remaining cool-down, a rate limit's slot)."""
        asked = error.retry_after if isinstance(error, RetryLater) else 0.0
        if isinstance(error, RetryLater) and error.defers:
            return asked
        return max(self.delay(attempt, seed), asked)

    def delay(self, attempt: int, seed: str = "") -> float:
        """Seconds to wait after failed attempt `attempt`; jitter is seeded, so replays agree."""
        if self.backoff == "fixed":
            base = self.initial_delay
        elif self.backoff == "linear":
            base = self.initial_delay * attempt
        else:
            base = self.initial_delay * self.multiplier ** (attempt - 1)
        base = min(base, self.max_delay)
        if self.jitter and base:
            spread = base * self.jitter
            base += random.Random(f"{seed}:{attempt}").uniform(-spread, spread)  # noqa: S311
        return max(0.0, min(base, self.max_delay))


NO_RETRY = Retry(max_attempts=1)


def retry_from_config(policy: Mapping[str, Any]) -> Retry:
    """A node's `retry` option (durations as seconds or text such as 90s, 5m; error kinds never
    retried, or the only ones retried) as a policy; ValueError for a duration or kind that does
    not read as one, or for both lists of kinds given."""
    defaults = Retry()
    return Retry(
        max_attempts=int(policy.get("max_attempts", defaults.max_attempts)),
        backoff=policy.get("backoff", defaults.backoff),
        initial_delay=parse_duration(policy.get("initial_delay", defaults.initial_delay)),
        max_delay=parse_duration(policy.get("max_delay", defaults.max_delay)),
        multiplier=float(policy.get("multiplier", defaults.multiplier)),
        jitter=float(policy.get("jitter", defaults.jitter)),
        non_retryable_kinds=_kinds(policy, "non_retryable"),
        retry_on_kinds=_kinds(policy, "retry_on"),
    )


def _kinds(policy: Mapping[str, Any], key: str) -> frozenset[str]:
    kinds = policy.get(key, ())
    if not isinstance(kinds, (list, tuple)):
        raise ValueError(f"{key} must be a list of error kinds")
    return frozenset(kinds)


def is_deferral(error: BaseException) -> bool:
    """The attempt never ran: it waits for a rate limit's slot, which is not a failure."""
    return isinstance(error, RetryLater) and error.defers


def deferred_attempts(carrier: Mapping[str, Any] | None) -> int:
    """How many earlier attempts of a step were deferrals, as its journaled error (inline
    steps) or its detail (parallel steps) counts them: they never use up retry attempts."""
    value = (carrier or {}).get("deferred", 0)
    return value if isinstance(value, int) else 0
