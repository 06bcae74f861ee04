# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Workflow variables: plain local variables carry state from step to step."""

from typing import Any

from engine.core import step, workflow

WAREHOUSE = frozenset({"sku-lamp", "sku-chair"})
"""Products the simulated warehouse carries."""


@step(name="check-inventory")
def check_stock(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Find whether the warehouse carries every item (simulated)."""
    missing = [item["productId"] for item in items if item["productId"] not in WAREHOUSE]
    return {"available": not missing, "missing": missing}


@step(name="process-payment")
def take_payment(order: dict[str, Any]) -> dict[str, Any]:
    """Charge the order's total (simulated)."""
    return {"id": f"pay-{order['id']}", "amount": order["total"]}


@step(name="create-shipment")
def create_shipment(order: dict[str, Any], payment: dict[str, Any]) -> dict[str, Any]:
    """Create the shipment of a paid order (simulated)."""
    return {"id": f"ship-{order['id']}", "paymentId": payment["id"]}


@workflow("order-processing", tags=("demo", "variables"))
def order_processing(order: dict[str, Any]) -> dict[str, Any]:
    """Check stock, then pay and ship if available; local variables carry the state."""
    # Nothing stores these variables: every replay rebuilds them from the journaled step
    # results, so after a crash they hold exactly what they held before it.
    inventory: dict[str, Any] = check_stock(order["items"])
    payment: dict[str, Any] | None = None
    shipment: dict[str, Any] | None = None
    if inventory["available"]:
        payment = take_payment(order)
        shipment = create_shipment(order, payment)
    return {"inventory": inventory, "payment": payment, "shipment": shipment}
