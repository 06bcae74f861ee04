"""Python actions the canvas demo workflows call by name (`action.python`), all simulated.

Each is deterministic and touches no network, so a demo runs the same anywhere. They are
ordinary steps too: code workflows may call them like any other step.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from engine.core import NonRetryableError, Retry, action, idempotency_key

STOCK = {"widget": 100, "gadget": 5, "gizmo": 0}
"""Units on the simulated shelf; a product not listed has DEFAULT_STOCK units."""

DEFAULT_STOCK = 10
DECLINED_CARD = "declined"
"""The simulated card number that the bank always declines."""

CARRIERS = {"express": "Speedy Couriers", "standard": "Parcel Post", "pickup": "Store counter"}


class CardDeclined(NonRetryableError):
    """The bank declined the card: trying again will not help."""


def _digest(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:10]


@action("demo.create-account")
def create_account(email: str, name: str, plan: str = "free") -> dict[str, Any]:
    """Open an account for the customer (simulated); the same email gives the same id."""
    return {
        "id": f"acct-{_digest(email.lower())}",
        "email": email,
        "name": name,
        "plan": plan,
        "status": "active",
    }


@action("demo.verify-email")
def verify_email(email: str) -> dict[str, Any]:
    """Check an address's shape (simulated verification)."""
    local, _, domain = email.partition("@")
    return {"email": email, "valid": bool(local) and "." in domain, "domain": domain}


@action("demo.lookup-company")
def lookup_company(domain: str) -> dict[str, Any]:
    """Look a company up by its web domain (simulated)."""
    name = domain.split(".", 1)[0]
    return {
        "domain": domain,
        "name": name.replace("-", " ").title(),
        "employees": 10 + int(_digest(domain), 16) % 990,
    }


@action("demo.lookup-social")
def lookup_social(name: str) -> dict[str, Any]:
    """Find a person's public profiles (simulated)."""
    handle = "-".join(name.lower().split())
    return {
        "linkedin": f"https://www.linkedin.example/in/{handle}",
        "twitter": "@" + handle.replace("-", "_"),
    }


@action("demo.score-lead")
def score_lead(lead: dict[str, Any], company: dict[str, Any] | None = None) -> dict[str, Any]:
    """Score a lead from 0 to 100 (simulated: a title and a known company are worth more)."""
    score = 40 + (30 if lead.get("title") else 0) + (30 if (company or {}).get("name") else 0)
    return {"score": score, "grade": "A" if score >= 90 else "B" if score >= 60 else "C"}


@action("demo.check-stock")
def check_stock(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether every item is on the shelf in the quantity ordered."""
    missing = [
        item["sku"]
        for item in items
        if int(item.get("quantity", 1)) > STOCK.get(item["sku"], DEFAULT_STOCK)
    ]
    return {"available": not missing, "missing": missing}


@action("demo.reserve-inventory")
def reserve_inventory(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the items aside; a retried attempt reserves under the same id."""
    return {"id": f"res-{_digest(idempotency_key())}", "items": items}


# Compensations retry patiently: giving up on one leaves the books wrong.
@action("demo.release-inventory", retry=Retry(max_attempts=5, initial_delay=0.5))
def release_inventory(reservation: dict[str, Any]) -> dict[str, Any]:
    """Put reserved items back on the shelf."""
    return {"released": reservation["id"]}


@action("demo.charge-card")
def charge_card(amount: float, card: str, customer: str = "") -> dict[str, Any]:
    """Charge a card; the card "declined" always fails, without retries."""
    if card == DECLINED_CARD:
        raise CardDeclined(f"the bank declined the card for {amount}")
    return {"id": f"pay-{_digest(idempotency_key())}", "amount": amount, "customer": customer}


@action("demo.refund-card", retry=Retry(max_attempts=5, initial_delay=0.5))
def refund_card(payment: dict[str, Any]) -> dict[str, Any]:
    """Give a charge back."""
    return {"refunded": payment["id"], "amount": payment["amount"]}


@action("demo.ship-order")
def ship_order(order_id: str, method: str = "standard") -> dict[str, Any]:
    """Hand the parcel to the carrier of the shipping method."""
    return {
        "order": order_id,
        "method": method,
        "carrier": CARRIERS.get(method, CARRIERS["standard"]),
        "tracking": f"{method[:3].upper()}-{_digest(order_id, method)}",
    }


@action("demo.record-completion")
def record_completion() -> dict[str, Any]:
    """A state machine's note of when an order was completed: its return window counts from
    here (the `context` key of an action's result updates the instance's context). An action
    is a journaled step, so reading the clock here is replayed, not read again."""
    return {"context": {"completed_at": datetime.now(UTC).isoformat()}}


@action("demo.create-backorder")
def create_backorder(order_id: str, missing: list[str]) -> dict[str, Any]:
    """Order the missing products from the supplier."""
    return {"order": order_id, "backordered": missing, "id": f"bo-{_digest(order_id)}"}
