"""The bulkhead demo: a loop of partner look-ups, at most 3 at once across every run."""

from designer.demo_graphs.drawing import TEXT, DemoGraph, edges, laid_out, node, object_schema

PARTNER_BULKHEAD = DemoGraph(
    slug="canvas-partner-bulkhead",
    title="Partner API bulkhead (canvas)",
    description=(
        "A bulkhead: the loop looks up ten products at once, but the look-up node's bulkhead "
        "(partner-api, at most 3) lets only three reach the partner at a time, counted across "
        "every run and worker. The others wait their turn without holding a worker; the "
        "monitor's Bulkheads section shows them waiting."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Products to look up",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["skus"], skus={"type": "array", "minItems": 1, "items": TEXT}
                    )
                },
            ),
            node(
                "each",
                "logic.loop",
                "For each product",
                (1, 0),
                {"items": "input.skus", "concurrency": 10},
            ),
            node(
                "lookup",
                "action.python",
                "Ask the partner",
                (2, -1),
                {
                    "action": "demo.partner-lookup",
                    "args": {"sku": "{{ item }}"},
                    "bulkhead": {"name": "partner-api", "max_concurrent": 3},
                    "retry": {"max_attempts": 3, "initial_delay": 1},
                },
            ),
            node(
                "report",
                "flow.end",
                "Prices",
                (2, 1),
                {"output": {"products": "{{ nodes.each.output }}"}},
            ),
        ],
        edges("start>each", "each>body>lookup", "lookup>each", "each>done>report"),
    ),
)
