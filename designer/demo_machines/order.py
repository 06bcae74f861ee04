"""The seed's order machine: draft → pending → processing → completed, with cancel, fail and
retry, and a return allowed for 30 days after completion."""

from designer.demo_machines.drawing import DemoMachine, emit, on, python_action, state


def _entered(state_id: str, note: str) -> dict[str, object]:
    """The seed's entry hooks log a line; here each announces the order's new state."""
    return emit("Order.entered", orderId="{{ context.id }}", state=state_id, note=note)


ORDER_MACHINE = DemoMachine(
    slug="canvas-order",
    title="Order lifecycle (canvas machine)",
    description=(
        "An order from draft to completion: submitting needs items, paying charges the card, "
        "fulfilling ships it; a failed order can be retried, and a completed one returned "
        "within 30 days of `context.completed_at`."
    ),
    definition={
        "initial": "draft",
        "context": {"id": "", "items": [], "total": 0, "card": "", "customer": ""},
        "states": [
            state("draft", "Draft", (0, 0)),
            state(
                "pending",
                "Pending payment",
                (1, 0),
                entry=[_entered("pending", "waiting for payment")],
            ),
            state("processing", "Processing", (2, 0), entry=[_entered("processing", "processing")]),
            state("completed", "Completed", (3, 0), entry=[_entered("completed", "completed")]),
            state("returned", "Returned", (4, 0), final=True),
            state("cancelled", "Cancelled", (1, 1), final=True),
            state("failed", "Failed", (2, 1)),
        ],
        "transitions": [
            on(
                "draft",
                "submit",
                "pending",
                guard="size(context.items) > 0",
                actions=[emit("Order.submitted", orderId="{{ context.id }}")],
            ),
            on(
                "pending",
                "pay",
                "processing",
                actions=[
                    python_action(
                        "demo.charge-card",
                        amount="{{ context.total }}",
                        card="{{ context.card }}",
                        customer="{{ context.customer }}",
                    )
                ],
            ),
            on("pending", "cancel", "cancelled"),
            on(
                "processing",
                "fulfill",
                "completed",
                actions=[
                    python_action("demo.ship-order", order_id="{{ context.id }}"),
                    python_action("demo.record-completion"),
                ],
            ),
            on("processing", "fail", "failed"),
            on(
                "completed",
                "return",
                "returned",
                guard="now - timestamp(context.completed_at) <= duration('720h')",
            ),
            on("failed", "retry", "processing"),
        ],
    },
)
