"""Code workflows the resilience tests run through real workers: steps that call a local
receiver through a circuit breaker or a rate limit."""

import os
import time
from typing import Any

import httpx

from engine.core import BreakerSpec, RateLimitSpec, Retry, step, workflow
from engine.resilience.breakers import breaker

# Long enough that three runs fail fast inside it on a loaded machine.
TEST_BREAKER = BreakerSpec("test-receiver", failure_threshold=5, window=60, cool_down=6)
TEST_LIMIT = RateLimitSpec("test-per-customer", limit=1, period=6, key="{{ args[1] }}")


def _post(url: str, **fields: Any) -> int:
    # The worker process says who it is, so a test can see which processes made the calls.
    response = httpx.post(url, json={"pid": os.getpid(), "at": time.time(), **fields}, timeout=5)
    response.raise_for_status()
    return response.status_code


@step(circuit_breaker=TEST_BREAKER)
def call_through_breaker(url: str) -> int:
    return _post(url)


@workflow("test-breaker-call")
def breaker_call(input: dict[str, Any]) -> int:
    """One call to the receiver through the `test-receiver` breaker (a step option)."""
    return call_through_breaker(input["url"])


@step
def call_with_breaker_block(url: str, name: str) -> int:
    with breaker(name, failure_threshold=5, window=60, cool_down=1.5):
        return _post(url)


@workflow("test-breaker-block")
def breaker_block(input: dict[str, Any]) -> int:
    """One call to the receiver inside `with breaker(name)` (the context manager)."""
    return call_with_breaker_block(input["url"], input["breaker"])


@step(rate_limit=TEST_LIMIT, retry=Retry(max_attempts=1))
def call_rate_limited(url: str, customer: str) -> int:
    return _post(url, customer=customer)


@workflow("test-rate-limited")
def rate_limited(input: dict[str, Any]) -> int:
    """One call per customer per 6 s: a second one waits durably for its slot."""
    return call_rate_limited(input["url"], input["customer"])
