# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Compensating workflows: undo the steps that succeeded when a later one fails (a saga)."""

from typing import Any

from engine.core import NonRetryableError, Retry, Saga, StepFailed, idempotency_key, step, workflow

CARD_LIMIT = 10_000
"""The simulated card declines any charge above this amount."""


class PaymentDeclined(NonRetryableError):
    """The card was declined: trying again will not help, so the step fails at once."""


@step(name="reserve-inventory")
def reserve_inventory(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Reserve the items (simulated); the reservation id is the step's idempotency key."""
    return {"id": idempotency_key(), "items": items}


@step(
    name="charge-payment",
    retry=Retry(max_attempts=3, backoff="exponential", initial_delay=2.0),
    timeout=30,
)
def charge_payment(amount: float, customer: str) -> dict[str, Any]:
    """Charge the customer (simulated card that declines amounts over the limit)."""
    if amount > CARD_LIMIT:
        raise PaymentDeclined(f"card of {customer} declined for {amount}")
    return {"id": f"pay-{idempotency_key()}", "amount": amount, "customer": customer}


@step(name="confirm-order")
def confirm_order(order_id: str, payment: dict[str, Any]) -> dict[str, Any]:
    """Announce the confirmed order (simulated)."""
    return {"event": "Order.confirmed", "orderId": order_id, "paymentId": payment["id"]}


# Compensations retry patiently: giving up on one leaves the books wrong.
@step(name="refund-payment", retry=Retry(max_attempts=5))
def refund_payment(payment: dict[str, Any]) -> dict[str, Any]:
    """Give the money back (simulated)."""
    return {"refunded": payment["id"], "amount": payment["amount"]}


@step(name="release-inventory", retry=Retry(max_attempts=5))
def release_inventory(reservation: dict[str, Any]) -> dict[str, Any]:
    """Release a reservation (simulated)."""
    return {"released": reservation["id"]}


@step(name="notify-failure")
def notify_failure(order_id: str, reason: str) -> dict[str, Any]:
    """Announce that the order failed (simulated)."""
    return {"event": "Order.failed", "orderId": order_id, "reason": reason}


@workflow("process-payment", tags=("demo", "compensation"))
def process_payment(order: dict[str, Any]) -> dict[str, Any]:
    """Reserve stock, charge and confirm; on failure undo what was done, newest first."""
    try:
        with Saga() as saga:
            reservation = reserve_inventory(order["items"])
            saga.add(release_inventory.call(reservation))
            payment = charge_payment(order["total"], order["customer"])
            saga.add(refund_payment.call(payment))
            confirm_order(order["id"], payment)
    except StepFailed as failure:
        # The saga has compensated by now (refund, then release); tell the world, then fail.
        notify_failure(order["id"], str(failure))
        raise
    return {"success": True, "payment": payment}
