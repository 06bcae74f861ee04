"""Code workflows the trigger and webhook tests start by events, emits and deliveries.

Their event types (Parcel.*, Catalog.*, Basket.*, Remittance.*, Echo.*, Arrears.*) are used by
no other test, so these subscriptions start nothing elsewhere in the suite.
"""

from datetime import timedelta
from typing import Any

from engine.core import emit, every, on, step, workflow


@step
def note(value: Any) -> Any:
    return value


@on.Parcel.registered
@workflow("test-on-parcel")
def on_parcel(parcel: dict[str, Any]) -> dict[str, Any]:
    """Started by every Parcel.registered event, with its payload as the input."""
    return {"parcel": note(parcel["id"])}


@on("Parcel.priced", "Parcel.repriced", filter="event.total > 100")
@workflow("test-on-expensive-parcel")
def on_expensive_parcel(parcel: dict[str, Any]) -> dict[str, Any]:
    """Started by price events over 100 only."""
    return {"total": parcel["total"]}


@workflow("test-emitter")
def emitter(input: dict[str, Any]) -> dict[str, Any]:
    """Emits Parcel.shipped, which starts test-on-shipped; a replay emits nothing new."""
    sent = emit(on.Parcel.shipped, {"id": input["id"]})
    return {"emitted": sent["id"]}


@on.Parcel.shipped
@workflow("test-on-shipped")
def on_shipped(parcel: dict[str, Any]) -> str:
    """Started by the events test-emitter (and graphs) emit."""
    return f"shipped {parcel['id']}"


@on.Catalog.updated(debounce=timedelta(seconds=1), key="event.sku")
@workflow("test-reindex")
def reindex(product: dict[str, Any]) -> dict[str, Any]:
    """Debounced per SKU: one run per burst of updates, with the last one."""
    return product


@workflow("test-basket-reminder")
def basket_reminder(reminder: dict[str, Any]) -> dict[str, Any]:
    """A reminder about an abandoned basket, started a while after the event."""
    return reminder


@on.Basket.abandoned(start=basket_reminder, delay=timedelta(seconds=1))
def first_reminder(basket: dict[str, Any]) -> dict[str, Any]:
    return {"basket": basket["id"], "reminder": 1}


@on.Basket.abandoned(start=basket_reminder, delay=timedelta(hours=24))
def second_reminder(basket: dict[str, Any]) -> dict[str, Any]:
    return {"basket": basket["id"], "reminder": 2}


@on.Remittance.received
@workflow("test-on-remittance")
def on_remittance(remittance: dict[str, Any]) -> dict[str, Any]:
    """Started by the events a webhook endpoint turns its deliveries into."""
    return remittance


@workflow("test-hook-target", input_schema={"type": "object", "required": ["order"]})
def hook_target(input: dict[str, Any]) -> dict[str, Any]:
    """Started by webhook deliveries, with an input shaped by the endpoint's templates."""
    return {"got": note(input)}


@on.Echo.heard
@workflow("test-echo")
def echo(sound: dict[str, Any]) -> dict[str, Any]:
    """Started by Echo.heard and emits it again: a loop only the event chain limit ends."""
    emit(on.Echo.heard, {"hop": sound.get("hop", 0) + 1})
    return sound


@on.Arrears.noticed(priority=60)
@workflow("test-on-arrears", schedule=every.day.at("06:00").options(priority=-30))
def on_arrears(notice: dict[str, Any]) -> dict[str, Any]:
    """Its event runs go before others held back (60); its daily runs after them (-30)."""
    return notice
