# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Conditional workflows: a step's journaled result decides which branch runs."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.core import step, workflow

STOCK: Mapping[str, int] = MappingProxyType({"sku-lamp": 12, "sku-chair": 4, "sku-desk": 0})
"""The simulated warehouse: units on hand per product."""


@step(name="check-inventory")
def check_inventory(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Find whether every item of the order is in stock (simulated warehouse)."""
    short = [
        item["productId"] for item in items if STOCK.get(item["productId"], 0) < item["quantity"]
    ]
    return {"available": not short, "short": short}


@step(name="reserve-inventory")
def reserve_inventory(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Reserve the items (simulated)."""
    return {"reserved": [item["productId"] for item in items]}


@step(name="create-shipment")
def create_shipment(order: dict[str, Any]) -> dict[str, Any]:
    """Create the shipment (simulated)."""
    return {"shipmentId": f"ship-{order['id']}", "status": "pending"}


@step(name="create-backorder")
def create_backorder(order: dict[str, Any], short: list[str]) -> dict[str, Any]:
    """Record a back-order for the missing products (simulated)."""
    return {"backorderId": f"bo-{order['id']}", "products": short}


@step(name="notify-customer")
def notify_backorder(email: str) -> dict[str, Any]:
    """Tell the customer the order is back-ordered (simulated email)."""
    return {"sent": True, "to": email, "template": "backorder-notification"}


@workflow("fulfill-order", tags=("demo", "conditional"))
def fulfill_order(order: dict[str, Any]) -> dict[str, Any]:
    """Fulfil an order: ship it when in stock, otherwise back-order it and tell the customer."""
    inventory = check_inventory(order["items"])
    # The branch depends only on a journaled result, so a replay takes the same one.
    if inventory["available"]:
        reserve_inventory(order["items"])
        shipment = create_shipment(order)
        return {"status": "shipping", "shipment": shipment}
    backorder = create_backorder(order, inventory["short"])
    notify_backorder(order["customer"]["email"])
    return {"status": "backordered", "backorder": backorder}
