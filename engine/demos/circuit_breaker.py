"""The seed's circuit breaker (threshold 5, 60 s open, one half-open probe), and a keyed rate
limit: a payment that fails fast while its gateway is down and sends receipts at a pace."""

from typing import Any

from engine.core import BreakerSpec, RateLimitSpec, Retry, step, workflow
from engine.resilience.breakers import breaker

PAYMENTS_API = BreakerSpec(
    "payments-api", failure_threshold=5, window=60, cool_down=60, half_open_probes=1
)
"""Shared by every run and worker: five failures within a minute open it for a minute."""

RECEIPTS = RateLimitSpec(
    "receipt-emails", limit=10, period=60, key="{{ args[0].customer }}", on_limit="delay"
)
"""At most 10 receipts a minute to one customer; the rest wait durably for their slot."""


class GatewayDown(Exception):
    """The payments gateway answered 503 (simulated with `gateway_down: true`)."""


# While the breaker is open an attempt fails fast with CircuitOpen, and the retry waits at
# least the rest of the cool-down instead of hammering the gateway.
@step(
    name="charge-gateway",
    circuit_breaker=PAYMENTS_API,
    retry=Retry(max_attempts=4, initial_delay=2.0, max_delay=120.0),
)
def charge_gateway(order: dict[str, Any]) -> dict[str, Any]:
    """Charge the order at the payments gateway (simulated)."""
    if order.get("gateway_down"):
        raise GatewayDown("the payments gateway answered 503")
    return {"payment": f"pay-{order['id']}", "amount": order["total"]}


@step(name="score-fraud", retry=Retry(max_attempts=3, initial_delay=1.0))
def score_fraud(order: dict[str, Any]) -> dict[str, Any]:
    """Ask the fraud service for a score, through its breaker as a block (simulated)."""
    with breaker("fraud-api", failure_threshold=5, window=60, cool_down=30):
        return {"score": 0.1 if order["total"] < 1000 else 0.4}


@step(name="send-receipt", rate_limit=RECEIPTS)
def send_receipt(order: dict[str, Any], payment: dict[str, Any]) -> dict[str, Any]:
    """E-mail the receipt (simulated)."""
    return {"to": order["customer"], "payment": payment["payment"]}


@workflow("resilient-payment", tags=("demo", "circuit-breaker"))
def resilient_payment(order: dict[str, Any]) -> dict[str, Any]:
    """Score, charge through the payments-api breaker, then send a rate-limited receipt."""
    fraud = score_fraud(order)
    payment = charge_gateway(order)
    receipt = send_receipt(order, payment)
    return {"fraud": fraud, "payment": payment, "receipt": receipt}
