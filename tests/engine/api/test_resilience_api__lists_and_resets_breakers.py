"""The resilience API: breakers with their state and rate limits with their usage for any role;
only a role that may reset breakers (operators) resets one, which closes it for every worker;
anyone else gets 403 and the breaker stays open; an unknown name is a 404 naming the field."""

import uuid
from typing import Any

import pytest

from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.resilience.breakers import breaker_status, enter, leave
from engine.resilience.rate_limits import acquire

pytestmark = pytest.mark.django_db


def open_breaker() -> BreakerSpec:
    spec = BreakerSpec(f"api-{uuid.uuid4().hex[:8]}", failure_threshold=2, cool_down=600)
    for _ in range(2):
        leave(spec, ok=False, probe=enter(spec))
    return spec


def test_any_role_reads_breakers_and_rate_limits(client: Any, make_user: Any) -> None:
    spec = open_breaker()
    limit = RateLimitSpec(f"api-limit-{uuid.uuid4().hex[:8]}", limit=3, period=60, key="{{ k }}")
    acquire(limit, {"k": "acme"})
    acquire(limit, {"k": "acme"})
    client.force_login(make_user("viewer", "viewers"))

    breakers = client.get("/api/resilience/breakers").json()["breakers"]
    shown = next(item for item in breakers if item["name"] == spec.name)
    assert shown["state"] == "open"
    assert shown["failures_in_window"] == 0
    assert shown["open_until"] is not None
    assert shown["settings"]["failure_threshold"] == 2

    limits = client.get("/api/resilience/rate-limits").json()["rate_limits"]
    usage = next(item for item in limits if item["name"] == limit.name)
    assert usage["limit"] == 3 and usage["period"] == 60
    assert usage["keys"] == [{"key": "acme", "used": 2}]


def test_only_operators_reset_a_breaker(client: Any, make_user: Any) -> None:
    spec = open_breaker()
    url = f"/api/resilience/breakers/{spec.name}/reset"
    for role in ("viewers", "designers", "approvers"):
        client.force_login(make_user(f"not-{role}", role))
        assert client.post(url).status_code == 403
        status = breaker_status(spec.name)
        assert status is not None and status.status == "open"

    client.force_login(make_user("operator", "operators"))
    response = client.post(url)
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    status = breaker_status(spec.name)
    assert status is not None and status.status == "closed" and status.failures_in_window == 0
    enter(spec)  # closed again: a call goes through


def test_an_unknown_breaker_is_a_404_naming_it(client: Any, make_user: Any) -> None:
    client.force_login(make_user("operator", "operators"))
    response = client.post("/api/resilience/breakers/no-such-breaker/reset")
    assert response.status_code == 404
    assert response.json()["detail"] == "name: no circuit breaker is called 'no-such-breaker'"
    assert client.post("/api/resilience/breakers/Bad%20Name/reset").status_code == 404
