"""A failed payment releases the reservation and notifies; compensations run newest first."""

from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import compensation


def order(total: float) -> dict[str, Any]:
    return {
        "id": "ord-7",
        "items": [{"productId": "sku-lamp", "quantity": 1}],
        "total": total,
        "customer": "cus-1",
    }


def test_a_declined_payment_releases_the_inventory_then_notifies() -> None:
    """A declined card fails at once, the reservation is released, the failure announced."""
    tester = WorkflowTester()

    run = tester.run(compensation.process_payment, order(compensation.CARD_LIMIT + 1))

    assert run.status == "failed"
    assert run.steps == [
        ("reserve-inventory", "completed", 1),
        ("charge-payment", "failed", 1),  # PaymentDeclined is not retried
        ("release-inventory", "completed", 1),
        ("notify-failure", "completed", 1),
    ]
    assert tester.calls(compensation.refund_payment) == 0
    assert run.error is not None and run.error["step"] == "charge-payment"
    assert run.error["cause"]["type"] == "engine.demos.compensation.PaymentDeclined"
    reservation = tester.call_args(compensation.reserve_inventory)
    released = tester.call_args(compensation.release_inventory)[0][0][0]
    assert released["items"] == reservation[0][0][0]


def test_a_failure_after_the_charge_refunds_before_it_releases() -> None:
    """When confirmation fails, the refund (newest) runs before the release (oldest)."""
    tester = WorkflowTester()
    tester.fake(compensation.confirm_order, raises=RuntimeError("order service down"))

    run = tester.run(compensation.process_payment, order(40))

    assert run.status == "failed"
    assert run.step_names() == [
        "reserve-inventory",
        "charge-payment",
        "confirm-order",
        "refund-payment",
        "release-inventory",
        "notify-failure",
    ]
    notified = tester.call_args(compensation.notify_failure)[0][0]
    assert "order service down" in notified[1]


def test_a_successful_payment_compensates_nothing() -> None:
    """Without a failure no compensation step runs and the payment is returned."""
    tester = WorkflowTester()

    run = tester.run(compensation.process_payment, order(40))

    assert run.status == "completed"
    assert run.output["success"] is True
    assert run.output["payment"]["amount"] == 40
    assert run.step_names() == ["reserve-inventory", "charge-payment", "confirm-order"]
