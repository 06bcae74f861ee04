# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Human in the loop: an expense needs its manager's approval, and a VP's above 1,000.

Each approval is a task in the inbox of the person it names; the run learns the decision from
the task itself, so nobody can approve an expense by sending an event.
"""

from datetime import timedelta
from typing import Any

from engine.core import Decision, approval, step, workflow

DECISION_TIMEOUT = timedelta(hours=48)
SECOND_APPROVAL_ABOVE = 1_000

INPUT_SCHEMA = {
    "type": "object",
    "required": ["id", "amount", "employee", "manager", "vp"],
    "properties": {
        "id": {"type": "string", "title": "Expense", "default": "exp-1"},
        "amount": {"type": "number", "title": "Amount", "minimum": 0, "default": 1500},
        "description": {"type": "string", "title": "What for", "default": "Train to Lyon"},
        "employee": {"type": "string", "title": "Employee", "default": "viewer"},
        "manager": {"type": "string", "title": "Manager (a user)", "default": "approver"},
        "vp": {"type": "string", "title": "VP (a user)", "default": "admin"},
    },
}


@step(name="submit")
def submit_expense(expense: dict[str, Any]) -> dict[str, Any]:
    """Announce the submitted expense to its manager (simulated)."""
    return {
        "event": "Expense.submitted",
        "expenseId": expense["id"],
        "amount": expense["amount"],
        "submittedBy": expense["employee"],
        "approver": expense["manager"],
    }


@step(name="escalate")
def request_second_approval(expense: dict[str, Any]) -> dict[str, Any]:
    """Tell the VP a second approval is needed (simulated)."""
    return {"event": "Approval.requested", "expenseId": expense["id"], "approver": expense["vp"]}


@step
def reject_expense(expense_id: str, reason: str) -> dict[str, Any]:
    """Tell the employee the expense was rejected (simulated)."""
    return {"expenseId": expense_id, "status": "rejected", "reason": reason}


@step(name="approve")
def pay_expense(expense: dict[str, Any]) -> dict[str, Any]:
    """Record the approval and pay the employee back (simulated)."""
    return {
        "expenseId": expense["id"],
        "status": "approved",
        "payment": {"recipient": expense["employee"], "amount": expense["amount"]},
    }


def _ask(expense: dict[str, Any], approver: str, role: str) -> Decision:
    # Four-eyes: the employee never approves their own expense, and the VP's approval must
    # come from someone other than whoever gave the manager's.
    return approval(
        f"Expense of {expense['amount']} by {expense['employee']}",
        users=[expense[approver]],
        description=str(expense.get("description") or ""),
        data={
            "expense": expense["id"],
            "amount": expense["amount"],
            "employee": expense["employee"],
            "asked as": role,
        },
        timeout=DECISION_TIMEOUT,
        requester=expense["employee"],
        distinct_from=["manager-approval"] if approver == "vp" else [],
        name=f"{approver}-approval",
    )


def _reason(decision: Decision, role: str) -> str:
    if decision.outcome == "timeout":
        return f"no decision from the {role} within 48 hours"
    return decision.comment or f"rejected by the {role}"


@workflow("expense-approval", tags=("demo", "human-in-the-loop"), input_schema=INPUT_SCHEMA)
def expense_approval(expense: dict[str, Any]) -> dict[str, Any]:
    """Approve an expense: the manager decides, a VP too above 1,000; then it is paid."""
    submit_expense(expense)
    manager = _ask(expense, "manager", "manager")
    if not manager.approved:
        reason = _reason(manager, "manager")
        reject_expense.named("reject")(expense["id"], reason)
        return {"status": "rejected", "reason": reason, "approvals": []}
    approvals = [decision["user"] for decision in manager.decisions]
    if expense["amount"] > SECOND_APPROVAL_ABOVE:
        request_second_approval(expense)
        vp = _ask(expense, "vp", "VP")
        if not vp.approved:
            reason = _reason(vp, "VP")
            reject_expense.named("reject-final")(expense["id"], reason)
            return {"status": "rejected", "reason": reason, "approvals": approvals}
        approvals += [decision["user"] for decision in vp.decisions]
    pay_expense(expense)
    return {"status": "approved", "approvals": approvals}
