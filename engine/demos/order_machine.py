# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""The seed's order machine, registered in code: the engine keeps each order's state.

Every order is an instance keyed by its id (`POST /api/machines/order/instances`); its events
arrive through the API or as engine events (`Order.paid` with `orderId` in the payload).
Each action is a step: the engine journals it, so a crash never runs it twice. An action
returns `{"context": {...}}` to update the order's context.
"""

from datetime import UTC, datetime
from typing import Any

from engine.core import State, StateMachine, Transition, register_machine, step

RETURN_WINDOW = "duration('720h')"
"""Thirty days, in CEL."""


@step(name="announce-submission")
def announce_submission(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Tell the shop an order was submitted (simulated)."""
    return {"context": {"submitted": True}}


@step(name="process-payment")
def process_payment(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Capture the payment (simulated)."""
    return {"context": {"paymentId": data.get("paymentId") or "pay-simulated"}}


@step(name="create-shipment")
def create_shipment(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Create the shipment (simulated) and note when the order was completed: the fulfilment
    event may say when delivery happened, else it is now."""
    completed_at = data.get("completedAt") or datetime.now(UTC).isoformat()
    return {"context": {"shipmentId": "ship-simulated", "completed_at": completed_at}}


@step(name="notify-customer")
def notify_customer(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """An entry action: tell the customer where the order is (simulated)."""
    return {"notified": True}


@step(name="refund")
def refund(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Pay the customer back (simulated)."""
    return {"context": {"refunded": True}}


ORDER_MACHINE = StateMachine(
    initial="draft",
    context={"items": []},
    states={
        "draft": State(
            on={
                "submit": Transition(
                    "pending", guard="size(context.items) > 0", action=announce_submission
                ),
                "cancel": Transition("cancelled"),
            }
        ),
        "pending": State(
            entry=notify_customer,
            on={
                "pay": Transition("processing", action=process_payment),
                "cancel": Transition("cancelled"),
            },
        ),
        "processing": State(
            entry=notify_customer,
            on={
                "fulfill": Transition("completed", action=create_shipment),
                "fail": Transition("failed"),
            },
        ),
        "completed": State(
            entry=notify_customer,
            on={
                "return": Transition(
                    "returned",
                    guard=f"now - timestamp(context.completed_at) <= {RETURN_WINDOW}",
                    action=refund,
                )
            },
        ),
        "failed": State(on={"retry": Transition("processing")}),
        "cancelled": State(final=True),
        "returned": State(final=True),
    },
    listen={
        "Order.submitted": "submit",
        "Order.paid": "pay",
        "Order.fulfilled": "fulfill",
        "Order.cancelled": "cancel",
        "Order.failed": "fail",
        "Order.retried": "retry",
        "Order.returned": "return",
    },
    key="orderId",
)

register_machine("order", ORDER_MACHINE, title="Order")
