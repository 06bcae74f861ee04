"""The seed's workflow patterns drawn as canvas workflows, loaded by `manage.py load_demo`.

Nodes are laid out left to right in columns, branches one row apart, so each demo opens tidy
on the canvas. The Python actions they call (`demo.*`) live in engine/demos/graph_actions.py.
"""

import copy
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from designer.drafts import create_workflow, publish
from designer.models import Workflow

COLUMN = 240
ROW = 150
MARGIN = 40
"""Canvas coordinates: the width of a column, the height of a row, the space around a graph."""

APPROVERS_GROUP = "approvers"
VP_USER = "admin"
REVIEWERS = ("designer", "approver")


@dataclass(frozen=True)
class DemoGraph:
    slug: str
    title: str
    description: str
    graph: dict[str, Any]


def _node(
    node_id: str,
    node_type: str,
    label: str,
    at: tuple[float, float],
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    column, row = at
    return {
        "id": node_id,
        "type": node_type,
        "label": label,
        "config": config or {},
        "position": {"x": column * COLUMN, "y": row * ROW},
    }


def _graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    """The graph document, moved so that its top-left node sits at the margin."""
    left = min(node["position"]["x"] for node in nodes)
    top = min(node["position"]["y"] for node in nodes)
    for node in nodes:
        position = node["position"]
        position["x"] = round(position["x"] + MARGIN - left)
        position["y"] = round(position["y"] + MARGIN - top)
    return {"nodes": nodes, "edges": edges}


def _edges(*arrows: str) -> list[dict[str, Any]]:
    """Edges from arrows: "a>b" for the normal output, "a>handle>b" for a named one."""
    edges = []
    for arrow in arrows:
        source, *handle, target = arrow.split(">")
        edge: dict[str, Any] = {"id": arrow, "source": source, "target": target}
        if handle:
            edge["handle"] = handle[0]
        edges.append(edge)
    return edges


def _schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
    }


TEXT = {"type": "string", "minLength": 1}
EMAIL = {"type": "string", "format": "email", "minLength": 3}
ITEMS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {"sku": TEXT, "quantity": {"type": "integer", "minimum": 1}},
    },
}


CUSTOMER_ONBOARDING = DemoGraph(
    slug="canvas-customer-onboarding",
    title="Customer onboarding (canvas)",
    description=(
        "Sequential steps: open the account, keep it as a record, send the welcome email. "
        "Each step is journaled before the next one starts."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Customer registered",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["name", "email"],
                        name=TEXT,
                        email=EMAIL,
                        plan={"enum": ["free", "pro", "enterprise"], "default": "free"},
                    )
                },
            ),
            _node(
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
            _node(
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
            _node(
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
            _node(
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
        _edges("start>account", "account>save", "save>welcome", "welcome>done"),
    ),
)


LEAD_ENRICHMENT = DemoGraph(
    slug="canvas-lead-enrichment",
    title="Lead enrichment (canvas)",
    description=(
        "Parallel steps: verify the email, look up the company and the social profiles at "
        "once, wait for all three, merge them into one lead and score it."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "New lead",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["name", "email", "domain"],
                        name=TEXT,
                        email=EMAIL,
                        domain=TEXT,
                        title={"type": "string"},
                    )
                },
            ),
            _node("fork", "logic.parallel", "Enrich in parallel", (1, 0)),
            _node(
                "verify",
                "action.python",
                "Verify email",
                (2, -1),
                {"action": "demo.verify-email", "args": {"email": "{{ input.email }}"}},
            ),
            _node(
                "company",
                "action.python",
                "Look up company",
                (2, 0),
                {
                    "action": "demo.lookup-company",
                    "args": {"domain": "{{ input.domain }}"},
                    "retry": {"max_attempts": 3},
                    "timeout": 20,
                },
            ),
            _node(
                "social",
                "action.python",
                "Find social profiles",
                (2, 1),
                {
                    "action": "demo.lookup-social",
                    "args": {"name": "{{ input.name }}"},
                    "retry": {"max_attempts": 3},
                    "timeout": 20,
                },
            ),
            _node("all", "logic.join", "Wait for all three", (3, 0), {"mode": "all"}),
            _node(
                "merge",
                "flow.transform",
                "Merge data",
                (4, 0),
                {
                    "output": {
                        "name": "{{ input.name }}",
                        "email": "{{ input.email }}",
                        "title": "{{ has(input.title) ? input.title : '' }}",
                        "emailValid": "{{ nodes.verify.output.valid }}",
                        "company": "{{ nodes.company.output }}",
                        "socialProfiles": "{{ nodes.social.output }}",
                    }
                },
            ),
            _node(
                "score",
                "action.python",
                "Score lead",
                (5, 0),
                {
                    "action": "demo.score-lead",
                    "args": {
                        "lead": "{{ nodes.merge.output }}",
                        "company": "{{ nodes.company.output }}",
                    },
                },
            ),
            _node(
                "done",
                "flow.end",
                "Enriched",
                (6, 0),
                {
                    "output": {
                        "lead": "{{ nodes.merge.output }}",
                        "score": "{{ nodes.score.output }}",
                    }
                },
            ),
        ],
        _edges(
            "start>fork",
            "fork>verify",
            "fork>company",
            "fork>social",
            "verify>all",
            "company>all",
            "social>all",
            "all>merge",
            "merge>score",
            "score>done",
        ),
    ),
)


ORDER_FULFILMENT = DemoGraph(
    slug="canvas-order-fulfilment",
    title="Order fulfilment (canvas)",
    description=(
        "Conditional branches: in stock, reserve and ship by the chosen method (express, "
        "pickup, otherwise standard), then announce Order.shipped; out of stock, backorder "
        "and tell the customer."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Order placed",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["id", "email", "items", "shipping"],
                        id=TEXT,
                        email=EMAIL,
                        items=ITEMS,
                        shipping={"enum": ["express", "standard", "pickup"]},
                    )
                },
            ),
            _node(
                "stock",
                "action.python",
                "Check inventory",
                (1, 0),
                {"action": "demo.check-stock", "args": {"items": "{{ input.items }}"}},
            ),
            _node(
                "in_stock",
                "logic.condition",
                "In stock?",
                (2, 0),
                {"expression": "nodes.stock.output.available"},
            ),
            _node(
                "reserve",
                "action.python",
                "Reserve inventory",
                (3, -1),
                {"action": "demo.reserve-inventory", "args": {"items": "{{ input.items }}"}},
            ),
            _node(
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
            _node(
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
            _node(
                "ship_pickup",
                "action.python",
                "Ready for pickup",
                (5, -1),
                {
                    "action": "demo.ship-order",
                    "args": {"order_id": "{{ input.id }}", "method": "pickup"},
                },
            ),
            _node(
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
            _node(
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
            _node(
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
            _node(
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
            _node(
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
            _node(
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
        _edges(
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
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Start campaign",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["campaign", "subject", "recipients"],
                        campaign=TEXT,
                        subject=TEXT,
                        recipients={
                            "type": "array",
                            "minItems": 1,
                            "items": _schema(["email", "name"], email=EMAIL, name=TEXT),
                        },
                    )
                },
            ),
            _node(
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
            _node(
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
            _node(
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
        _edges("start>each", "each>body>send", "send>each", "each>done>report"),
    ),
)


PAYMENT = DemoGraph(
    slug="canvas-payment",
    title="Payment with compensation (canvas)",
    description=(
        "A saga: reserve the inventory, charge the card, ship. Each step names the step that "
        "undoes it; when a later step fails (a declined card) the undo steps run newest "
        "first, so the reservation is released, and the run fails."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Order to pay",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["id", "items", "total", "card", "customer"],
                        id=TEXT,
                        items=ITEMS,
                        total={"type": "number", "exclusiveMinimum": 0},
                        card=TEXT,
                        customer=TEXT,
                    )
                },
            ),
            _node(
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
            _node(
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
                },
            ),
            _node(
                "ship",
                "action.python",
                "Ship order",
                (3, 0),
                {"action": "demo.ship-order", "args": {"order_id": "{{ input.id }}"}},
            ),
            _node(
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
            _node(
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
            _node(
                "release",
                "action.python",
                "Release inventory (undo)",
                (1, 1),
                {
                    "action": "demo.release-inventory",
                    "args": {"reservation": "{{ nodes.reserve.output }}"},
                },
            ),
            _node(
                "refund",
                "action.python",
                "Refund card (undo)",
                (2, 1),
                {"action": "demo.refund-card", "args": {"payment": "{{ nodes.charge.output }}"}},
            ),
        ],
        _edges(
            "start>reserve", "reserve>charge", "charge>ship", "ship>confirmed", "confirmed>done"
        ),
    ),
)


def _decider(node_id: str) -> str:
    return f"{{{{ nodes.{node_id}.output.decisions[0].user }}}}"


EXPENSE_APPROVAL = DemoGraph(
    slug="canvas-expense-approval",
    title="Expense approval (canvas)",
    description=(
        "Human in the loop: a manager from the approvers group decides; above 1000 the VP "
        f"(user {VP_USER}) must approve too. A reminder goes out after a day; without a "
        "decision in three days the request times out. Every path ends saying how it ended."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Expense submitted",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["employee", "amount", "description"],
                        employee=TEXT,
                        amount={"type": "number", "exclusiveMinimum": 0},
                        description=TEXT,
                    )
                },
            ),
            _node(
                "manager",
                "human.approval",
                "Manager approval",
                (1, 0),
                {
                    "title": "Expense of {{ input.amount }} by {{ input.employee }}",
                    "description": "{{ input.description }}",
                    "data": {"employee": "{{ input.employee }}", "amount": "{{ input.amount }}"},
                    "assignees": {"groups": [APPROVERS_GROUP]},
                    "reminder": "1d",
                    "timeout": "3d",
                },
            ),
            _node(
                "large",
                "logic.condition",
                "Over 1000?",
                (2, -1),
                {"expression": "input.amount > 1000"},
            ),
            _node(
                "vp",
                "human.approval",
                "VP approval",
                (3, -2),
                {
                    "title": "VP approval: expense of {{ input.amount }} by {{ input.employee }}",
                    "description": "{{ input.description }}",
                    "data": {
                        "employee": "{{ input.employee }}",
                        "amount": "{{ input.amount }}",
                        "manager": _decider("manager"),
                    },
                    "assignees": {"users": [VP_USER]},
                    "reminder": "1d",
                    "timeout": "3d",
                },
            ),
            _node(
                "approved",
                "flow.end",
                "Approved",
                (3, -1),
                {
                    "output": {
                        "approved": True,
                        "outcome": "approved",
                        "amount": "{{ input.amount }}",
                        "approved_by": [_decider("manager")],
                    }
                },
            ),
            _node(
                "approved_vp",
                "flow.end",
                "Approved by the VP",
                (4, -2.5),
                {
                    "output": {
                        "approved": True,
                        "outcome": "approved",
                        "amount": "{{ input.amount }}",
                        "approved_by": [_decider("manager"), _decider("vp")],
                    }
                },
            ),
            _node(
                "vp_rejected",
                "flow.end",
                "Rejected by the VP",
                (4, -1.5),
                {
                    "output": {
                        "approved": False,
                        "outcome": "rejected",
                        "rejected_by": _decider("vp"),
                        "comment": "{{ nodes.vp.output.decisions[0].comment }}",
                    }
                },
            ),
            _node(
                "rejected",
                "flow.end",
                "Rejected",
                (2, 1),
                {
                    "output": {
                        "approved": False,
                        "outcome": "rejected",
                        "rejected_by": _decider("manager"),
                        "comment": "{{ nodes.manager.output.decisions[0].comment }}",
                    }
                },
            ),
            _node(
                "timed_out",
                "flow.end",
                "No decision in time",
                (4, 0.5),
                {
                    "output": {
                        "approved": False,
                        "outcome": "timeout",
                        "reason": "nobody decided before the deadline",
                    }
                },
            ),
        ],
        _edges(
            "start>manager",
            "manager>approved>large",
            "manager>rejected>rejected",
            "manager>timeout>timed_out",
            "large>false>approved",
            "large>true>vp",
            "vp>approved>approved_vp",
            "vp>rejected>vp_rejected",
            "vp>timeout>timed_out",
        ),
    ),
)


DOCUMENT_REVIEW = DemoGraph(
    slug="canvas-document-review",
    title="Document review (canvas)",
    description=(
        f"Several reviewers ({', '.join(REVIEWERS)}) review in parallel; each may approve, "
        "ask for changes or reject. They are reminded after a day; after two days without "
        "every review the request times out. Approved documents are published."
    ),
    graph=_graph(
        [
            _node(
                "start",
                "trigger.manual",
                "Document submitted",
                (0, 0),
                {
                    "input_schema": _schema(
                        ["title", "url", "author_email"],
                        title=TEXT,
                        url=TEXT,
                        author_email=EMAIL,
                    )
                },
            ),
            _node(
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
            _node(
                "publish",
                "action.emit",
                "Emit Document.published",
                (2, -1.5),
                {
                    "type": "Document.published",
                    "payload": {"title": "{{ input.title }}", "url": "{{ input.url }}"},
                },
            ),
            _node(
                "published",
                "flow.end",
                "Published",
                (3, -1.5),
                {"output": {"outcome": "approved", "published": "{{ input.url }}"}},
            ),
            _node(
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
            _node(
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
            _node(
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
            _node(
                "timed_out",
                "flow.end",
                "Review timed out",
                (2, 1.5),
                {"output": {"outcome": "timeout", "reason": "not every reviewer answered in time"}},
            ),
        ],
        _edges(
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


DEMO_GRAPHS: tuple[DemoGraph, ...] = (
    CUSTOMER_ONBOARDING,
    LEAD_ENRICHMENT,
    ORDER_FULFILMENT,
    EMAIL_CAMPAIGN,
    PAYMENT,
    EXPENSE_APPROVAL,
    DOCUMENT_REVIEW,
)


def demo_graph(slug: str) -> DemoGraph:
    """A demo by its slug, with a copy of its graph that the caller may change."""
    for demo in DEMO_GRAPHS:
        if demo.slug == slug:
            return DemoGraph(demo.slug, demo.title, demo.description, copy.deepcopy(demo.graph))
    raise KeyError(slug)


def load_demo_graphs(user: User | None) -> list[tuple[str, bool]]:
    """Create and publish each demo workflow that is missing: (slug, created) per demo.

    An existing workflow of the same slug is left alone, edited or not. The demos name the demo
    users and groups (config/accounts/demo.py), which must exist for them to validate.
    """
    loaded = []
    for demo in DEMO_GRAPHS:
        if Workflow.objects.filter(slug=demo.slug).exists():
            loaded.append((demo.slug, False))
            continue
        # One transaction: a demo that cannot be published leaves no draft behind.
        with transaction.atomic():
            workflow, _ = create_workflow(
                slug=demo.slug,
                title=demo.title,
                description=demo.description,
                graph=copy.deepcopy(demo.graph),
                user=user,
            )
            publish(workflow, user, note="Demo")
        loaded.append((demo.slug, True))
    return loaded
