"""Prepare a fresh Stepwise database for the chaos test: people, tokens and the workflow.

Run as `python -m tests.chaos.seed` with the private cluster's environment (it has its own
database, so the test process's Django cannot write it). Publishes the graph through the
engine's action and prints the API tokens as one JSON line.
"""

import json
from typing import Any

from tests.engine.graph.graphs import graph

WORKFLOW = "chaos-order"
STARTER = "olga"
APPROVER = "abby"
COLLECTION = "ChaosOrders"
HTTP_STEPS = ("charge", "notify")


def chaos_graph() -> dict[str, Any]:
    """An HTTP effect, a record, a delay, an approval, another HTTP effect, an end."""

    def effect(step: str) -> dict[str, Any]:
        return {
            "method": "POST",
            "url": "{{ input.receiver }}/effects/" + step,
            "body": {"n": "{{ input.n }}", "step": step},
            "timeout": 10,
            "retry": {"max_attempts": 20, "initial_delay": 0.2, "max_delay": 2},
        }

    return graph(
        [
            ("start", "trigger.manual", {}),
            ("charge", "action.http", effect("charge")),
            (
                "record",
                "action.record",
                {"operation": "create", "collection": COLLECTION, "data": {"n": "{{ input.n }}"}},
            ),
            ("pause", "flow.delay", {"duration": 1}),
            (
                "ask",
                "human.approval",
                {"title": "Order {{ input.n }}", "assignees": {"users": [APPROVER]}},
            ),
            ("notify", "action.http", effect("notify")),
            (
                "out",
                "flow.end",
                {
                    "output": {
                        "n": "{{ input.n }}",
                        "approved_by": "{{ nodes.ask.output.decisions[0].user }}",
                        "record": "{{ nodes.record.output.key }}",
                    }
                },
            ),
        ],
        [
            "start>charge",
            "charge>record",
            "record>pause",
            "pause>ask",
            "ask>approved>notify",
            "notify>out",
        ],
    )


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from accounts.models import ApiToken
    from engine.graph.publishing import publish_graph

    tokens = {}
    for username, role in ((STARTER, "operators"), (APPROVER, "approvers")):
        user = User.objects.create_user(username=username, password="chaos monkey at work")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        tokens[username] = ApiToken.issue(user, "chaos")[1]
    publish_graph(WORKFLOW, "Chaos order", chaos_graph(), note="chaos test")
    print(json.dumps(tokens))


if __name__ == "__main__":
    main()
