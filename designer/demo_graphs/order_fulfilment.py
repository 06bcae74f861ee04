"""The order fulfilment demo: conditional branches on stock and shipping method."""

from designer.demo_graphs.drawing import (
    EMAIL,
    ITEMS,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

ORDER_FULFILMENT = DemoGraph(
    slug="canvas-order-fulfilment",
    title="Order fulfilment (canvas)",
    description=(
        "Conditional branches: in stock, reserve and ship by the chosen method (express, "
        "pickup, otherwise standard), then announce Order.shipped; out of stock, backorder "
        "and tell the customer."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Order placed",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["id", "email", "items", "shipping"],
                        id=TEXT,
                        email=EMAIL,
                        items=ITEMS,
                        shipping={"enum": ["express", "standard", "pickup"]},
                    )
                },
            ),
            node(
                "stock",
                "action.python",
                "Check inventory",
                (1, 0),
                {"action": "demo.check-stock", "args": {"items": "{{ input.items }}"}},
            ),
            node(
                "in_stock",
                "logic.condition",
                "In stock?",
                (2, 0),
                {"expression": "nodes.stock.output.available"},
            ),
            node(
                "reserve",
                "action.python",
                "Reserve inventory",
                (3, -1),
                {"action": "demo.reserve-inventory", "args": {"items": "{{ input.items }}"}},
            ),
            node(
                "method",
                "logic.switch",
                "Shipping method",
                (4, -1),
                {
                    "cases": [
                        {"name": "express", "when": "input.shipping == 'express'"},
                        {"name": "pickup", "when": "input.shipping == 'pickup'"},
                    ]
                },
            ),
            node(
                "ship_express",
                "action.python",
                "Ship express",
                (5, -2),
                {
                    "action": "demo.ship-order",
                    "args": {"order_id": "{{ input.id }}", "method": "express"},
                    "retry": {"max_attempts": 5, "initial_delay": 1},
                },
            ),
            node(
                "ship_pickup",
                "action.python",
                "Ready for pickup",
                (5, -1),
                {
                    "action": "demo.ship-order",
                    "args": {"order_id": "{{ input.id }}", "method": "pickup"},
                },
            ),
            node(
                "ship_standard",
                "action.python",
                "Ship standard",
                (5, 0),
                {
                    "action": "demo.ship-order",
                    "args": {"order_id": "{{ input.id }}", "method": "standard"},
                    "retry": {"max_attempts": 3, "initial_delay": 5},
                },
            ),
            node(
                "shipped",
                "action.emit",
                "Emit Order.shipped",
                (6, -1),
                {
                    "type": "Order.shipped",
                    "payload": {
                        "order": "{{ input.id }}",
                        "method": "{{ input.shipping }}",
                        "email": "{{ input.email }}",
                    },
                },
            ),
            node(
                "done",
                "flow.end",
                "Shipped",
                (7, -1),
                {
                    "output": {
                        "order": "{{ input.id }}",
                        "status": "shipped",
                        "method": "{{ input.shipping }}",
                    }
                },
            ),
            node(
                "backorder",
                "action.python",
                "Create backorder",
                (3, 1),
                {
                    "action": "demo.create-backorder",
                    "args": {
                        "order_id": "{{ input.id }}",
                        "missing": "{{ nodes.stock.output.missing }}",
                    },
                },
            ),
            node(
                "notify",
                "action.email",
                "Tell the customer",
                (4, 1),
                {
                    "to": ["{{ input.email }}"],
                    "subject": "Your order {{ input.id }} is on backorder",
                    "body": (
                        "Some items of order {{ input.id }} are out of stock: "
                        "{{ nodes.stock.output.missing }}. We ship as soon as they arrive."
                    ),
                },
            ),
            node(
                "backordered",
                "flow.end",
                "Backordered",
                (5, 1),
                {
                    "output": {
                        "order": "{{ input.id }}",
                        "status": "backordered",
                        "missing": "{{ nodes.stock.output.missing }}",
                    }
                },
            ),
        ],
        edges(
            "start>stock",
            "stock>in_stock",
            "in_stock>true>reserve",
            "in_stock>false>backorder",
            "reserve>method",
            "method>express>ship_express",
            "method>pickup>ship_pickup",
            "method>default>ship_standard",
            "ship_express>shipped",
            "ship_pickup>shipped",
            "ship_standard>shipped",
            "shipped>done",
            "backorder>notify",
            "notify>backordered",
        ),
    ),
)
