"""The e-commerce order starts children side by side, compensates with a child, chains one more."""

from typing import Any

from engine.core.testing import TestRun, WorkflowTester
from engine.demos import orchestration


def order(total: float, product: str = "sku-lamp") -> dict[str, Any]:
    return {
        "id": "ord-3",
        "items": [{"productId": product, "quantity": 2}, {"productId": "sku-chair", "quantity": 1}],
        "total": total,
        "customer": {"email": "ada@example.com"},
    }


def child_steps(tester: WorkflowTester, run: TestRun) -> list[list[str]]:
    return [child.step_names() for child in tester.children(run.id)]


def test_an_order_runs_three_children_side_by_side_then_ships() -> None:
    """Reserve, pay and confirm run as children; ship-order runs once both succeed."""
    tester = WorkflowTester()

    run = tester.run(orchestration.ecommerce_order, order(80))

    assert run.status == "completed"
    assert run.output == {
        "status": "shipped",
        "shipment": {"shipmentId": "ship-ord-3", "items": 2},
        "paymentId": "pay-ord-3",
    }
    assert child_steps(tester, run) == [
        ["reserve-sku-lamp", "reserve-sku-chair"],
        ["charge"],
        ["send-email"],
        ["create-shipment"],
    ]
    assert all(child.status == "completed" for child in tester.children(run.id))
    assert tester.calls(orchestration.release_item) == 0


def test_a_refused_payment_releases_the_inventory_and_fails_the_order() -> None:
    """A refused payment runs release-inventory for what was reserved, ships nothing, fails."""
    tester = WorkflowTester()

    run = tester.run(orchestration.ecommerce_order, order(orchestration.PAYMENT_LIMIT + 1))

    assert run.status == "failed"
    assert run.error is not None
    assert run.error["type"] == "engine.demos.orchestration.PaymentFailed"
    assert child_steps(tester, run)[-1] == ["release-sku-lamp", "release-sku-chair"]
    assert tester.children(run.id)[-1].status == "completed"
    assert tester.calls(orchestration.create_shipment) == 0


def test_short_stock_fails_the_reservation_child_and_the_order() -> None:
    """A product out of stock fails reserve-inventory, which fails the parent."""
    tester = WorkflowTester()

    run = tester.run(orchestration.ecommerce_order, order(80, product="sku-desk"))

    assert run.status == "failed"
    assert run.error is not None
    assert run.error["type"] == "engine.core.errors.ChildWorkflowFailed"
    assert tester.children(run.id)[0].status == "failed"
