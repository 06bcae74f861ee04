# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Durable long-running workflows: crashes, deploys and days of waiting lose nothing."""

from datetime import datetime, timedelta
from typing import Any

from engine.core import (
    DefinitionError,
    Retry,
    WaitTimeout,
    now,
    run_child,
    sleep_until,
    step,
    wait_for,
    workflow,
)


@step(name="process", timeout=timedelta(minutes=10))
def process_dataset(data: dict[str, Any]) -> dict[str, Any]:
    """Process a large dataset (simulated: counts its rows)."""
    return {"dataset": data["dataset"], "rows": len(data.get("rows", []))}


@step(name="upload", timeout=timedelta(minutes=20), retry=Retry(max_attempts=3))
def upload_results(processed: dict[str, Any]) -> dict[str, Any]:
    """Upload the results to storage (simulated)."""
    return {"url": f"https://storage.example/{processed['dataset']}.json", **processed}


@step(name="notify")
def notify_completion(uploaded: dict[str, Any]) -> dict[str, Any]:
    """Tell whoever waits for the results (simulated)."""
    return {"notified": True, "result": uploaded["url"]}


@workflow("long-running", tags=("demo", "long-running"))
def long_running(data: dict[str, Any]) -> dict[str, Any]:
    """Process a dataset, upload the results, notify; a crash resumes after the last done step."""
    processed = process_dataset(data)
    # If the worker dies here, the run is replayed from its journal: `process` hands back its
    # recorded result and does not run again, and the run carries on with `upload`.
    uploaded = upload_results(processed)
    notify_completion(uploaded)
    return {"uploaded": uploaded}


@step
def send_cart_reminder(cart: dict[str, Any], number: int) -> dict[str, Any]:
    """Remind the shopper of their cart (simulated email)."""
    return {"sent": True, "to": cart["email"], "template": f"cart-reminder-{number}"}


CART_REMINDERS = (timedelta(hours=1), timedelta(hours=24))
"""When the reminders go out, counted from the moment the cart was abandoned."""


@workflow("abandoned-cart", tags=("demo", "long-running"))
def abandoned_cart(cart: dict[str, Any]) -> dict[str, Any]:
    """Remind a shopper of an abandoned cart after an hour and after a day, unless they buy."""
    abandoned_at = now()
    for number, after in enumerate(CART_REMINDERS, start=1):
        # Journaled time, so the remaining wait comes out the same on every replay.
        remaining = max(timedelta(0), abandoned_at + after - now())
        try:
            checkout = wait_for("Cart.checked_out", match={"cartId": cart["id"]}, timeout=remaining)
        except WaitTimeout:
            send_cart_reminder.named(f"reminder-{number}")(cart, number)
            continue
        order_id = checkout["payload"].get("orderId")
        return {"checkedOut": True, "orderId": order_id, "reminders": number - 1}
    return {"checkedOut": False, "orderId": None, "reminders": len(CART_REMINDERS)}


@workflow("run-at", tags=("demo", "long-running"))
def run_at(request: dict[str, Any]) -> Any:
    """Run a workflow at a given moment: sleep durably until then, then run it as a child."""
    moment = datetime.fromisoformat(request["run_at"])
    if moment.tzinfo is None:
        raise DefinitionError("run_at: needs a time zone, e.g. 2026-01-06T09:00:00+00:00")
    if moment > now():
        sleep_until(moment, name="until-run-at")
    return run_child(request["workflow"], request.get("input"))
