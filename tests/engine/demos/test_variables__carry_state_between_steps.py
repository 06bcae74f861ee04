"""Local variables carry state between steps, also across a crash and replay."""

from engine.core.testing import WorkflowTester
from engine.demos import variables


def order(product: str) -> dict[str, object]:
    return {"id": "ord-2", "total": 90, "items": [{"productId": product, "quantity": 1}]}


def test_an_available_order_fills_every_variable() -> None:
    """Inventory, payment and shipment are all set, the shipment referring to the payment."""
    run = WorkflowTester().run(variables.order_processing, order("sku-lamp"))

    assert run.output == {
        "inventory": {"available": True, "missing": []},
        "payment": {"id": "pay-ord-2", "amount": 90},
        "shipment": {"id": "ship-ord-2", "paymentId": "pay-ord-2"},
    }


def test_the_variables_survive_a_crash_between_steps() -> None:
    """After a crash right after the payment, the replay rebuilds `payment` from the journal."""
    tester = WorkflowTester()
    tester.interrupt_after("process-payment")

    run = tester.run(variables.order_processing, order("sku-lamp"))

    assert run.advances == 2
    assert tester.calls(variables.take_payment) == 1
    assert run.output["shipment"] == {"id": "ship-ord-2", "paymentId": "pay-ord-2"}


def test_an_unavailable_order_leaves_payment_and_shipment_empty() -> None:
    """Without stock neither payment nor shipment happens, and both stay None."""
    run = WorkflowTester().run(variables.order_processing, order("sku-unknown"))

    assert run.output["payment"] is None
    assert run.output["shipment"] is None
    assert run.step_names() == ["check-inventory"]
