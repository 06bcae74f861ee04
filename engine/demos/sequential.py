# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Sequential workflows: steps run in order, each journaled before the next one starts."""

from datetime import UTC, datetime
from typing import Any

from engine.core import idempotency_key, step, workflow

ONBOARDING_HOST = "success@acme.example"


@step(name="welcome-email")
def send_welcome_email(email: str) -> dict[str, Any]:
    """Send the welcome email (simulated); the key lets a mail service drop a duplicate send."""
    return {"sent": True, "to": email, "template": "welcome", "idempotency_key": idempotency_key()}


@step(name="create-account")
def create_account(customer_id: str) -> dict[str, Any]:
    """Create the customer's account (simulated)."""
    # A step may read the wall clock: its result is journaled, so a replay never sees another.
    created_at = datetime.now(UTC).isoformat()
    return {
        "id": f"acct-{customer_id}",
        "customer": customer_id,
        "status": "active",
        "createdAt": created_at,
    }


@step(name="schedule-call")
def schedule_onboarding_call(email: str) -> dict[str, Any]:
    """Book a 30-minute onboarding call (simulated)."""
    return {
        "scheduled": True,
        "attendees": [email, ONBOARDING_HOST],
        "duration": 30,
        "subject": "Welcome to Acme!",
    }


@workflow("customer-onboarding", tags=("demo", "sequential"))
def customer_onboarding(customer: dict[str, Any]) -> dict[str, Any]:
    """Onboard a customer: welcome email, then account, then onboarding call."""
    send_welcome_email(customer["email"])
    account = create_account(customer["id"])
    schedule_onboarding_call(customer["email"])
    return {"customer": customer, "account": account}
