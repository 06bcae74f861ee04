"""The customer onboarding demo: sequential steps, each journaled before the next starts."""

from designer.demo_graphs.drawing import (
    EMAIL,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

CUSTOMER_ONBOARDING = DemoGraph(
    slug="canvas-customer-onboarding",
    title="Customer onboarding (canvas)",
    description=(
        "Sequential steps: open the account, keep it as a record, send the welcome email. "
        "Each step is journaled before the next one starts."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Customer registered",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["name", "email"],
                        name=TEXT,
                        email=EMAIL,
                        plan={"enum": ["free", "pro", "enterprise"], "default": "free"},
                    )
                },
            ),
            node(
                "account",
                "action.python",
                "Create account",
                (1, 0),
                {
                    "action": "demo.create-account",
                    "args": {
                        "email": "{{ input.email }}",
                        "name": "{{ input.name }}",
                        "plan": "{{ has(input.plan) ? input.plan : 'free' }}",
                    },
                    "retry": {"max_attempts": 3, "initial_delay": 1},
                    "timeout": 30,
                },
            ),
            node(
                "save",
                "action.record",
                "Save account record",
                (2, 0),
                {
                    "operation": "create",
                    "collection": "Accounts",
                    "key": "{{ nodes.account.output.id }}",
                    "data": {
                        "customer": "{{ input.name }}",
                        "email": "{{ input.email }}",
                        "plan": "{{ nodes.account.output.plan }}",
                        "status": "{{ nodes.account.output.status }}",
                    },
                },
            ),
            node(
                "welcome",
                "action.email",
                "Send welcome email",
                (3, 0),
                {
                    "to": ["{{ input.email }}"],
                    "subject": "Welcome to Acme, {{ input.name }}!",
                    "body": (
                        "Hello {{ input.name }},\n\nyour {{ nodes.account.output.plan }} account "
                        "{{ nodes.account.output.id }} is ready.\n\nThe Acme team"
                    ),
                    "retry": {"max_attempts": 5, "initial_delay": 2},
                },
            ),
            node(
                "done",
                "flow.end",
                "Onboarded",
                (4, 0),
                {
                    "output": {
                        "account": "{{ nodes.account.output }}",
                        "record": "{{ nodes.save.output.key }}",
                        "welcomed": "{{ nodes.welcome.output.to }}",
                    }
                },
            ),
        ],
        edges("start>account", "account>save", "save>welcome", "welcome>done"),
    ),
)
