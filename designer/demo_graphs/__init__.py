"""The seed's workflow patterns drawn as canvas workflows, loaded by `manage.py load_demo`.

One module per demo, drawn with the helpers in `drawing.py`: nodes left to right in columns,
branches one row apart, so each demo opens tidy on the canvas. The Python actions they call
(`demo.*`) live in engine/demos/graph_actions.py.
"""

import copy

from django.contrib.auth.models import User
from django.db import transaction

from designer.demo_graphs.customer_onboarding import CUSTOMER_ONBOARDING
from designer.demo_graphs.document_review import DOCUMENT_REVIEW, REVIEWERS
from designer.demo_graphs.drawing import DemoGraph
from designer.demo_graphs.email_campaign import CAMPAIGN_DELAY_SECONDS, EMAIL_CAMPAIGN
from designer.demo_graphs.expense_approval import EXPENSE_APPROVAL, VP_USER
from designer.demo_graphs.lead_enrichment import LEAD_ENRICHMENT
from designer.demo_graphs.order_fulfilment import ORDER_FULFILMENT
from designer.demo_graphs.partner_bulkhead import PARTNER_BULKHEAD
from designer.demo_graphs.payment import PAYMENT
from designer.drafts import create_workflow, publish
from designer.models import Workflow

__all__ = [
    "CAMPAIGN_DELAY_SECONDS",
    "DEMO_GRAPHS",
    "REVIEWERS",
    "VP_USER",
    "DemoGraph",
    "demo_graph",
    "load_demo_graphs",
]

# The order the designer lists them in and `load_demo` loads them.

DEMO_GRAPHS: tuple[DemoGraph, ...] = (
    CUSTOMER_ONBOARDING,
    LEAD_ENRICHMENT,
    ORDER_FULFILMENT,
    EMAIL_CAMPAIGN,
    PAYMENT,
    EXPENSE_APPROVAL,
    DOCUMENT_REVIEW,
    PARTNER_BULKHEAD,
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
    users and groups (accounts/demo.py), which must exist for them to validate.
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
                timeout_seconds=demo.timeout_seconds,
                user=user,
            )
            publish(workflow, user, note="Demo")
        loaded.append((demo.slug, True))
    return loaded
