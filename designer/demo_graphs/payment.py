"""The payment demo: a saga whose steps name the steps that undo them."""

from designer.demo_graphs.drawing import (
    ITEMS,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

PAYMENT = DemoGraph(
    slug="canvas-payment",
    title="Payment with compensation (canvas)",
    description=(
        "A saga: reserve the inventory, charge the card, ship. Each step names the step that "
        "undoes it; when a later step fails (a declined card) the undo steps run newest "
        "first, so the reservation is released, and the run fails. The charge goes through "
        "the card-gateway circuit breaker; shipping is rate-limited per customer."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Order to pay",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["id", "items", "total", "card", "customer"],
                        id=TEXT,
                        items=ITEMS,
                        total={"type": "number", "exclusiveMinimum": 0},
                        card=TEXT,
                        customer=TEXT,
                    )
                },
            ),
            node(
                "reserve",
                "action.python",
                "Reserve inventory",
                (1, 0),
                {
                    "action": "demo.reserve-inventory",
                    "args": {"items": "{{ input.items }}"},
                    "compensation": "release",
                },
            ),
            node(
                "charge",
                "action.python",
                "Charge card",
                (2, 0),
                {
                    "action": "demo.charge-card",
                    "args": {
                        "amount": "{{ input.total }}",
                        "card": "{{ input.card }}",
                        "customer": "{{ input.customer }}",
                    },
                    "retry": {"max_attempts": 3, "initial_delay": 2},
                    "timeout": 30,
                    "compensation": "refund",
                    # The seed's circuit breaker: 5 failures open it for a minute, shared by
                    # every run; a declined card is an answer, not a failure of the gateway.
                    "circuit_breaker": {
                        "name": "card-gateway",
                        "failure_threshold": 5,
                        "window": "1m",
                        "cool_down": "1m",
                        "half_open_probes": 1,
                    },
                },
            ),
            node(
                "ship",
                "action.python",
                "Ship order",
                (3, 0),
                {
                    "action": "demo.ship-order",
                    "args": {"order_id": "{{ input.id }}"},
                    # The carrier takes 30 bookings a minute per customer; more wait durably.
                    "rate_limit": {
                        "name": "carrier-bookings",
                        "limit": 30,
                        "period": "1m",
                        "key": "{{ input.customer }}",
                        "on_limit": "delay",
                    },
                },
            ),
            node(
                "confirmed",
                "action.emit",
                "Emit Order.confirmed",
                (4, 0),
                {
                    "type": "Order.confirmed",
                    "payload": {
                        "order": "{{ input.id }}",
                        "payment": "{{ nodes.charge.output.id }}",
                    },
                },
            ),
            node(
                "done",
                "flow.end",
                "Paid and shipped",
                (5, 0),
                {
                    "output": {
                        "success": True,
                        "payment": "{{ nodes.charge.output }}",
                        "tracking": "{{ nodes.ship.output.tracking }}",
                    }
                },
            ),
            node(
                "release",
                "action.python",
                "Release inventory (undo)",
                (1, 1),
                {
                    "action": "demo.release-inventory",
                    "args": {"reservation": "{{ nodes.reserve.output }}"},
                },
            ),
            node(
                "refund",
                "action.python",
                "Refund card (undo)",
                (2, 1),
                {"action": "demo.refund-card", "args": {"payment": "{{ nodes.charge.output }}"}},
            ),
        ],
        edges("start>reserve", "reserve>charge", "charge>ship", "ship>confirmed", "confirmed>done"),
    ),
)
