"""The document review demo: reviewers in parallel; approve, ask for changes or reject."""

from designer.demo_graphs.drawing import (
    EMAIL,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

REVIEWERS = ("designer", "approver")
"""The demo users (accounts/demo.py) who review documents."""


DOCUMENT_REVIEW = DemoGraph(
    slug="canvas-document-review",
    title="Document review (canvas)",
    description=(
        f"Several reviewers ({', '.join(REVIEWERS)}) review in parallel; each may approve, "
        "ask for changes or reject. They are reminded after a day; after two days without "
        "every review the request times out. Approved documents are published."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Document submitted",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["title", "url", "author_email"],
                        title=TEXT,
                        url=TEXT,
                        author_email=EMAIL,
                    )
                },
            ),
            node(
                "review",
                "human.review",
                "Review",
                (1, 0),
                {
                    "title": "Review: {{ input.title }}",
                    "description": "Please review {{ input.url }}",
                    "data": {"title": "{{ input.title }}", "url": "{{ input.url }}"},
                    "reviewers": {"users": list(REVIEWERS)},
                    "reminder": "1d",
                    "timeout": "2d",
                },
            ),
            node(
                "publish",
                "action.emit",
                "Emit Document.published",
                (2, -1.5),
                {
                    "type": "Document.published",
                    "payload": {"title": "{{ input.title }}", "url": "{{ input.url }}"},
                },
            ),
            node(
                "published",
                "flow.end",
                "Published",
                (3, -1.5),
                {"output": {"outcome": "approved", "published": "{{ input.url }}"}},
            ),
            node(
                "ask_changes",
                "action.email",
                "Ask the author for changes",
                (2, -0.5),
                {
                    "to": ["{{ input.author_email }}"],
                    "subject": "Changes requested: {{ input.title }}",
                    "body": (
                        "The reviewers of {{ input.title }} ask for changes:\n"
                        "{{ nodes.review.output.decisions.map(d, d.user + ': ' + d.comment) }}"
                    ),
                },
            ),
            node(
                "changes",
                "flow.end",
                "Changes requested",
                (3, -0.5),
                {
                    "output": {
                        "outcome": "changes",
                        "comments": "{{ nodes.review.output.decisions.map(d, d.comment) }}",
                    }
                },
            ),
            node(
                "rejected",
                "flow.end",
                "Rejected",
                (2, 0.5),
                {
                    "output": {
                        "outcome": "rejected",
                        "comments": "{{ nodes.review.output.decisions.map(d, d.comment) }}",
                    }
                },
            ),
            node(
                "timed_out",
                "flow.end",
                "Review timed out",
                (2, 1.5),
                {"output": {"outcome": "timeout", "reason": "not every reviewer answered in time"}},
            ),
        ],
        edges(
            "start>review",
            "review>approved>publish",
            "publish>published",
            "review>changes>ask_changes",
            "ask_changes>changes",
            "review>rejected>rejected",
            "review>timeout>timed_out",
        ),
    ),
)
