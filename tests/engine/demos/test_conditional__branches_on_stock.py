"""Order fulfilment ships what is in stock and back-orders what is not."""

from engine.core.testing import WorkflowTester
from engine.demos import conditional


def order(product: str, quantity: int = 1) -> dict[str, object]:
    return {
        "id": "ord-1",
        "items": [{"productId": product, "quantity": quantity}],
        "customer": {"email": "ada@example.com"},
    }


def test_an_order_in_stock_is_reserved_and_shipped() -> None:
    """With stock on hand the order takes the reserve-and-ship branch only."""
    run = WorkflowTester().run(conditional.fulfill_order, order("sku-lamp", 2))

    assert run.output["status"] == "shipping"
    assert run.step_names() == ["check-inventory", "reserve-inventory", "create-shipment"]


def test_an_order_out_of_stock_is_back_ordered_and_the_customer_told() -> None:
    """Without stock the order takes the back-order branch and nothing is reserved."""
    tester = WorkflowTester()

    run = tester.run(conditional.fulfill_order, order("sku-desk"))

    assert run.output["status"] == "backordered"
    assert run.output["backorder"]["products"] == ["sku-desk"]
    assert run.step_names() == ["check-inventory", "create-backorder", "notify-customer"]
    assert tester.calls(conditional.reserve_inventory) == 0


def test_the_journaled_inventory_result_decides_the_branch() -> None:
    """The branch follows what check-inventory returned, not the warehouse table."""
    tester = WorkflowTester()
    tester.fake(conditional.check_inventory, returns={"available": False, "short": ["sku-lamp"]})

    run = tester.run(conditional.fulfill_order, order("sku-lamp"))

    assert run.output["status"] == "backordered"
