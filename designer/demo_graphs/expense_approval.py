"""The expense approval demo: a manager decides, the VP too above 1000; then a timeout."""

from designer.demo_graphs.drawing import TEXT, DemoGraph, edges, laid_out, node, object_schema

APPROVERS_GROUP = "approvers"
VP_USER = "admin"
"""The demo group and user (accounts/demo.py) that decide expenses."""


def _decider(node_id: str) -> str:
    return f"{{{{ nodes.{node_id}.output.decisions[0].user }}}}"


EXPENSE_APPROVAL = DemoGraph(
    slug="canvas-expense-approval",
    title="Expense approval (canvas)",
    description=(
        "Human in the loop: a manager from the approvers group decides; above 1000 the VP "
        f"(user {VP_USER}) must approve too. A reminder goes out after a day; without a "
        "decision in three days the request times out. Every path ends saying how it ended. "
        "The whole run must end within a week (its run timeout, on the settings page)."
    ),
    timeout_seconds=7 * 24 * 3600,
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "Expense submitted",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["employee", "amount", "description"],
                        employee=TEXT,
                        amount={"type": "number", "exclusiveMinimum": 0},
                        description=TEXT,
                    )
                },
            ),
            node(
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
            node(
                "large",
                "logic.condition",
                "Over 1000?",
                (2, -1),
                {"expression": "input.amount > 1000"},
            ),
            node(
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
            node(
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
            node(
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
            node(
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
            node(
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
            node(
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
        edges(
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
