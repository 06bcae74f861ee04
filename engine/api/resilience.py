"""Circuit breakers and rate limits in the JSON API: their state, and resetting a breaker."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from accounts.api_auth import require_capability
from accounts.api_refusals import FieldError, RefusalOut
from accounts.roles import Capability
from engine.core.resilience import NAME_PATTERN
from engine.resilience.actions import do_reset_breaker
from engine.resilience.breakers import all_breakers, breaker_status
from engine.resilience.rate_limits import all_rate_limits

router = Router(tags=["resilience"])


class BreakerSettingsOut(Schema):
    name: str
    failure_threshold: int
    window: float = Field(description="Seconds")
    cool_down: float = Field(description="Seconds")
    half_open_probes: int
    failure_rate: float | None
    minimum_calls: int


class BreakerOut(Schema):
    name: str
    state: str = Field(description="closed, open or half_open")
    failures_in_window: int
    opened_at: str | None = Field(description="When it last opened (ISO 8601)")
    open_until: str | None = Field(description="While open: when it half-opens")
    probes_in_flight: int
    times_opened: int
    settings: BreakerSettingsOut


class KeyUsageOut(Schema):
    key: str
    used: int = Field(description="Calls counted against the key now, 0 to limit")


class RateLimitOut(Schema):
    name: str
    limit: int
    period: float = Field(description="Seconds")
    on_limit: str = Field(description="delay or fail")
    active_keys: int
    keys: list[KeyUsageOut] = Field(description="The busiest keys, at most 20")


class BreakersOut(Schema):
    breakers: list[BreakerOut]


class RateLimitsOut(Schema):
    rate_limits: list[RateLimitOut]


@router.get("/resilience/breakers", response=BreakersOut)
def list_breakers(request: HttpRequest) -> dict[str, Any]:
    """Every breaker an administrator defined or a step used lately, with its state."""
    require_capability(request, Capability.VIEW)
    return {"breakers": [status.as_json() for status in all_breakers()]}


@router.get("/resilience/rate-limits", response=RateLimitsOut)
def list_rate_limits(request: HttpRequest) -> dict[str, Any]:
    """Every rate limit an administrator defined or a step used within its period."""
    require_capability(request, Capability.VIEW)
    return {"rate_limits": [usage.as_json() for usage in all_rate_limits()]}


@router.post("/resilience/breakers/{name}/reset", response={200: BreakerOut, 404: RefusalOut})
def reset_breaker(request: HttpRequest, name: str) -> Any:
    """Close the breaker now and forget its failures (operators)."""
    require_capability(request, Capability.RESET_BREAKERS)
    before = breaker_status(name) if NAME_PATTERN.match(name) else None
    if before is None:
        raise FieldError(404, "name", f"no circuit breaker is called {name!r}")
    do_reset_breaker(name, request.user)
    after = breaker_status(name)
    assert after is not None  # reset keeps it listed
    return after.as_json()
