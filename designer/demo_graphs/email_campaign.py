"""The email campaign demo: a loop over the recipients, rate-limited by a durable pause."""

from designer.demo_graphs.drawing import (
    EMAIL,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

CAMPAIGN_DELAY_SECONDS = 1
"""The rate limit of the email campaign: one email, then this pause before the next."""

EMAIL_CAMPAIGN = DemoGraph(
    slug="canvas-email-campaign",
    title="Email campaign (canvas)",
    description=(
        "A loop: one email per recipient, one at a time with a "
        f"{CAMPAIGN_DELAY_SECONDS}-second pause between them (the rate limit); the run "
        "waits durably during each pause and reports how many were sent."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Start campaign",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["campaign", "subject", "recipients"],
                        campaign=TEXT,
                        subject=TEXT,
                        recipients={
                            "type": "array",
                            "minItems": 1,
                            "items": object_schema(["email", "name"], email=EMAIL, name=TEXT),
                        },
                    )
                },
            ),
            node(
                "each",
                "logic.loop",
                "For each recipient",
                (1, 0),
                {
                    "items": "input.recipients",
                    "concurrency": 1,
                    "delay": CAMPAIGN_DELAY_SECONDS,
                },
            ),
            node(
                "send",
                "action.email",
                "Send campaign email",
                (2, -1),
                {
                    "to": ["{{ item.email }}"],
                    "subject": "{{ input.subject }}",
                    "body": "Hi {{ item.name }},\n\n{{ input.subject }}\n\n({{ input.campaign }})",
                    "retry": {"max_attempts": 3, "initial_delay": 2},
                },
            ),
            node(
                "report",
                "flow.end",
                "Report",
                (2, 1),
                {
                    "output": {
                        "campaign": "{{ input.campaign }}",
                        "sent": "{{ size(nodes.each.output) }}",
                    }
                },
            ),
        ],
        edges("start>each", "each>body>send", "send>each", "each>done>report"),
    ),
)
