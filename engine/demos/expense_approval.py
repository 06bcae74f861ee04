# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Human in the loop: an expense needs its manager's approval, and a VP's above 1,000."""

from datetime import timedelta
from typing import Any

from engine.core import WaitTimeout, step, wait_for_any, workflow

DECISION_TIMEOUT = timedelta(hours=48)
SECOND_APPROVAL_ABOVE = 1_000
DECISIONS = ("Expense.approved", "Expense.rejected")
"""The events an approver's decision arrives as; the payload names the expense and approver."""


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
    """Ask the VP to approve as well (simulated)."""
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


def _decision(approver: str, **where: Any) -> tuple[bool, str]:
    """Wait for one approver's decision: (approved, reason). A missed deadline rejects."""
    try:
        event = wait_for_any(
            DECISIONS, timeout=DECISION_TIMEOUT, name=f"decision-{approver}", **where
        )
    except WaitTimeout:
        return False, f"no decision from the {approver} within 48 hours"
    if event["type"] == "Expense.approved":
        return True, ""
    return False, str(event["payload"].get("comment") or f"rejected by the {approver}")


@workflow("expense-approval", tags=("demo", "human-in-the-loop"))
def expense_approval(expense: dict[str, Any]) -> dict[str, Any]:
    """Approve an expense: the manager decides, a VP too above 1,000; then it is paid."""
    submit_expense(expense)
    # `match` compares payload fields with fixed values...
    approved, reason = _decision(
        "manager", match={"expenseId": expense["id"], "approver": expense["manager"]}
    )
    if not approved:
        reject_expense.named("reject")(expense["id"], reason)
        return {"status": "rejected", "reason": reason, "approvals": []}
    approvals = [expense["manager"]]
    if expense["amount"] > SECOND_APPROVAL_ABOVE:
        request_second_approval(expense)
        # ...a `filter` is a CEL expression over the event's payload and the run's input.
        approved, reason = _decision(
            "vp", filter="event.expenseId == input.id && event.approver == input.vp"
        )
        if not approved:
            reject_expense.named("reject-final")(expense["id"], reason)
            return {"status": "rejected", "reason": reason, "approvals": approvals}
        approvals.append(expense["vp"])
    pay_expense(expense)
    return {"status": "approved", "approvals": approvals}
