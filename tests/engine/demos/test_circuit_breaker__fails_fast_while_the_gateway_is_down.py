"""The circuit-breaker demo: while the payments gateway is down, five failures open the shared
`payments-api` breaker; later attempts fail fast without calling the gateway, and their retry
waits at least the rest of the 60 s cool-down. A healthy order goes through and its receipt
is sent under the per-customer rate limit."""

from datetime import timedelta

import pytest

from engine.core.testing import WorkflowTester
from engine.demos import circuit_breaker
from engine.resilience.breakers import breaker_status, reset

# The breaker's state is shared (Redis here); the admin's definitions are read from the database.
pytestmark = pytest.mark.django_db

ORDER = {"id": "o-1", "total": 120.0, "customer": "ada@example.com"}


def test_an_outage_opens_the_breaker_and_retries_wait_out_the_cool_down() -> None:
    reset(circuit_breaker.PAYMENTS_API.name)
    tester = WorkflowTester()
    first = tester.run(circuit_breaker.resilient_payment, {**ORDER, "gateway_down": True})
    assert first.status == "failed"
    assert tester.calls(circuit_breaker.charge_gateway) == 4  # 4 failures, still closed

    second = tester.run(circuit_breaker.resilient_payment, {**ORDER, "gateway_down": True})
    assert second.status == "failed"
    # The fifth failure opened it: the other three attempts never reached the gateway.
    assert tester.calls(circuit_breaker.charge_gateway) == 5
    assert second.error is not None
    assert second.error["cause"]["type"] == "engine.core.errors.CircuitOpen"
    # Each fast failure waited out (most of) the cool-down before the next attempt.
    assert second.elapsed >= timedelta(seconds=2 * 55)
    status = breaker_status("payments-api")
    assert status is not None and status.status == "open"
    reset("payments-api")


def test_a_healthy_order_is_charged_and_its_receipt_sent() -> None:
    reset(circuit_breaker.PAYMENTS_API.name)
    run = WorkflowTester().run(circuit_breaker.resilient_payment, ORDER)
    assert run.status == "completed"
    assert run.output["payment"] == {"payment": "pay-o-1", "amount": 120.0}
    assert run.output["receipt"] == {"to": "ada@example.com", "payment": "pay-o-1"}
