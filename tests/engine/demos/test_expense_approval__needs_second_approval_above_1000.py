"""An expense under 1,000 needs its manager; one over 1,000 needs a VP as well."""

from datetime import timedelta
from typing import Any

from engine.demos import expense_approval
from engine.testing import WorkflowTester


def expense(amount: float) -> dict[str, Any]:
    return {"id": "exp-1", "amount": amount, "employee": "emp-1", "manager": "mgr-1", "vp": "vp-1"}


def decide(tester: WorkflowTester, approver: str, hours: int, approved: bool = True) -> None:
    kind = "Expense.approved" if approved else "Expense.rejected"
    tester.send_event(
        kind, {"expenseId": "exp-1", "approver": approver}, after=timedelta(hours=hours)
    )


def test_an_expense_under_1000_completes_after_the_managers_approval() -> None:
    """The manager's approval alone pays an expense of 500."""
    tester = WorkflowTester()
    decide(tester, "mgr-1", hours=1)

    run = tester.run(expense_approval.expense_approval, expense(500))

    assert run.status == "completed"
    assert run.output == {"status": "approved", "approvals": ["mgr-1"]}
    assert run.step_names() == ["submit", "approve"]
    assert run.elapsed == timedelta(hours=1)


def test_an_expense_over_1000_completes_after_a_second_approval() -> None:
    """An expense of 1,500 is escalated after the manager and paid after the VP approves."""
    tester = WorkflowTester()
    decide(tester, "mgr-1", hours=1)
    decide(tester, "vp-1", hours=5)

    run = tester.run(expense_approval.expense_approval, expense(1500))

    assert run.output == {"status": "approved", "approvals": ["mgr-1", "vp-1"]}
    assert run.step_names() == ["submit", "escalate", "approve"]
    assert run.elapsed == timedelta(hours=5)


def test_an_expense_over_1000_is_not_paid_on_the_managers_approval_alone() -> None:
    """Without the VP the expense over 1,000 is rejected at the VP's deadline, never paid."""
    tester = WorkflowTester()
    decide(tester, "mgr-1", hours=1)

    run = tester.run(expense_approval.expense_approval, expense(1500))

    assert run.output["status"] == "rejected"
    assert run.output["approvals"] == ["mgr-1"]
    assert run.step_names() == ["submit", "escalate", "reject-final"]
    assert tester.calls(expense_approval.pay_expense) == 0
    assert run.elapsed == timedelta(hours=1) + expense_approval.DECISION_TIMEOUT


def test_the_managers_rejection_ends_it() -> None:
    """A rejection by the manager rejects the expense without asking the VP."""
    tester = WorkflowTester()
    decide(tester, "mgr-1", hours=2, approved=False)

    run = tester.run(expense_approval.expense_approval, expense(5000))

    assert run.output == {
        "status": "rejected",
        "reason": "rejected by the manager",
        "approvals": [],
    }
    assert run.step_names() == ["submit", "reject"]


def test_only_the_named_approvers_decisions_count() -> None:
    """An approval by someone else (even the VP at the manager's stage) is ignored."""
    tester = WorkflowTester()
    decide(tester, "vp-1", hours=1)
    decide(tester, "emp-1", hours=2)

    run = tester.run(expense_approval.expense_approval, expense(200))

    assert run.output["status"] == "rejected"
    assert run.output["reason"] == "no decision from the manager within 48 hours"
    assert run.elapsed == expense_approval.DECISION_TIMEOUT
