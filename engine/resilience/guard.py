"""The guard the engine puts around every step attempt that declares a rate limit or breaker.

Installed at start-up (engine.apps) through engine.core.resilience.register_step_guard. The
rate limit is taken first: a call that waits for its slot never reaches the breaker, so it
neither probes nor counts as a failure.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from engine.core.errors import NonRetryableError
from engine.core.resilience import BreakerSpec, RateLimitSpec, Scope
from engine.resilience.breakers import guarded
from engine.resilience.definitions import effective_breaker
from engine.resilience.rate_limits import RateLimitKeyError, acquire


class BrokenRateLimitKey(NonRetryableError):
    """The same scope would break the key again: trying again cannot help."""


@contextmanager
def guard_step(
    breaker: BreakerSpec | None, rate_limit: RateLimitSpec | None, scope: Scope
) -> Iterator[None]:
    if rate_limit is not None:
        try:
            acquire(rate_limit, scope)
        except RateLimitKeyError as wrong:
            raise BrokenRateLimitKey(str(wrong)) from None
    if breaker is None:
        yield
        return
    with guarded(effective_breaker(breaker)):
        yield
