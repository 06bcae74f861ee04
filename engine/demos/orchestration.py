# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Parent-child orchestration: children started together, awaited, compensated, chained."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.core import run_child, start_child, step, workflow

STOCK: Mapping[str, int] = MappingProxyType({"sku-lamp": 12, "sku-chair": 4, "sku-desk": 0})
"""The simulated warehouse: units on hand per product."""

PAYMENT_LIMIT = 5_000
"""The simulated payment provider refuses larger amounts."""


class PaymentFailed(Exception):
    """The payment child reported a refused payment."""


@step
def reserve_item(item: dict[str, Any]) -> dict[str, Any]:
    """Reserve one product (simulated warehouse); fails when stock is short."""
    if STOCK.get(item["productId"], 0) < item["quantity"]:
        raise RuntimeError(f"insufficient inventory for {item['productId']}")
    return {"productId": item["productId"], "quantity": item["quantity"]}


@workflow("reserve-inventory", tags=("demo", "orchestration"))
def reserve_inventory_workflow(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reserve stock for each item of an order, one step per product."""
    return [reserve_item.named(f"reserve-{item['productId']}")(item) for item in items]


@step
def release_item(reservation: dict[str, Any]) -> dict[str, Any]:
    """Release one reservation (simulated)."""
    return {"released": reservation["productId"], "quantity": reservation["quantity"]}


@workflow("release-inventory", tags=("demo", "orchestration"))
def release_inventory_workflow(reservations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Release the reservations of an order, one step per product."""
    return [release_item.named(f"release-{r['productId']}")(r) for r in reservations]


@step(name="charge")
def charge(order_id: str, amount: float) -> dict[str, Any]:
    """Charge the order (simulated provider that refuses amounts over the limit)."""
    if amount > PAYMENT_LIMIT:
        return {"success": False, "reason": "refused by the provider"}
    return {"success": True, "paymentId": f"pay-{order_id}", "amount": amount}


@workflow("order-payment", tags=("demo", "orchestration"))
def order_payment_workflow(request: dict[str, Any]) -> dict[str, Any]:
    """Take the payment for an order; the result says whether it succeeded."""
    result: dict[str, Any] = charge(request["orderId"], request["amount"])
    return result


@step(name="send-email")
def send_confirmation_email(email: str, order_id: str) -> dict[str, Any]:
    """Send the order confirmation (simulated email)."""
    return {"sent": True, "to": email, "template": "order-confirmation", "orderId": order_id}


@workflow("send-confirmation", tags=("demo", "orchestration"))
def send_confirmation_workflow(request: dict[str, Any]) -> dict[str, Any]:
    """Email the customer that the order was received."""
    sent: dict[str, Any] = send_confirmation_email(request["email"], request["orderId"])
    return sent


@step(name="create-shipment")
def create_shipment(order_id: str, reservations: list[dict[str, Any]]) -> dict[str, Any]:
    """Create the shipment (simulated)."""
    return {"shipmentId": f"ship-{order_id}", "items": len(reservations)}


@workflow("ship-order", tags=("demo", "orchestration"))
def ship_order_workflow(request: dict[str, Any]) -> dict[str, Any]:
    """Ship an order whose stock is reserved and whose payment went through."""
    shipment: dict[str, Any] = create_shipment(request["order"]["id"], request["inventory"])
    return {"status": "shipped", "shipment": shipment, "paymentId": request["payment"]["paymentId"]}


@workflow("ecommerce-order", tags=("demo", "orchestration"))
def ecommerce_order(order: dict[str, Any]) -> dict[str, Any]:
    """Reserve stock, take payment and confirm in parallel child runs, then ship the order."""
    # Three children start at once and run side by side; .result() waits durably for one.
    inventory = start_child(reserve_inventory_workflow, order["items"])
    payment = start_child(
        order_payment_workflow, {"orderId": order["id"], "amount": order["total"]}
    )
    confirmation = start_child(
        send_confirmation_workflow, {"email": order["customer"]["email"], "orderId": order["id"]}
    )
    inventory_result = inventory.result()
    payment_result = payment.result()
    if not payment_result["success"]:
        # run_child, not start_child: a child still running when its parent ends is cancelled
        # with it, so a compensation started and left behind might never run.
        run_child(release_inventory_workflow, inventory_result)
        raise PaymentFailed(f"payment failed: {payment_result.get('reason')}")
    fulfilment: dict[str, Any] = run_child(
        ship_order_workflow,
        {"order": order, "inventory": inventory_result, "payment": payment_result},
    )
    confirmation.result()  # awaited for the same reason: the parent's end would cancel it
    return fulfilment
