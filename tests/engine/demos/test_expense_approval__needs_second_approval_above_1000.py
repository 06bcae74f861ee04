"""An expense under 1,000 needs its manager's approval in the inbox; one over 1,000 a VP's as
well. Decisions come from the tasks, never from events."""

from datetime import timedelta
from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import expense_approval


def expense(amount: float) -> dict[str, Any]:
    return {"id": "exp-1", "amount": amount, "employee": "emp-1", "manager": "mgr-1", "vp": "vp-1"}


def test_an_expense_under_1000_completes_after_the_managers_approval() -> None:
    """The manager's approval alone pays an expense of 500."""
    tester = WorkflowTester()
    tester.decide("manager-approval", "approved", by="mgr-1", after=timedelta(hours=1))

    run = tester.run(expense_approval.expense_approval, expense(500))

    assert run.status == "completed"
    assert run.output == {"status": "approved", "approvals": ["mgr-1"]}
    assert run.step_names() == ["submit", "manager-approval", "approve"]
    assert run.elapsed == timedelta(hours=1)
    [task] = tester.tasks
    assert task.assignees == {"users": ["mgr-1"], "groups": []}
    assert task.data["amount"] == 500


def test_an_expense_over_1000_completes_after_a_second_approval() -> None:
    """An expense of 1,500 is escalated after the manager and paid after the VP approves."""
    tester = WorkflowTester()
    tester.decide("manager-approval", "approved", by="mgr-1", after=timedelta(hours=1))
    tester.decide("vp-approval", "approved", by="vp-1", after=timedelta(hours=5))

    run = tester.run(expense_approval.expense_approval, expense(1500))

    assert run.output == {"status": "approved", "approvals": ["mgr-1", "vp-1"]}
    assert run.step_names() == [
        "submit",
        "manager-approval",
        "escalate",
        "vp-approval",
        "approve",
    ]
    assert run.elapsed == timedelta(hours=5)


def test_an_expense_over_1000_is_not_paid_on_the_managers_approval_alone() -> None:
    """Without the VP the expense over 1,000 is rejected at the VP's deadline, never paid."""
    tester = WorkflowTester()
    tester.decide("manager-approval", "approved", by="mgr-1", after=timedelta(hours=1))

    run = tester.run(expense_approval.expense_approval, expense(1500))

    assert run.output["status"] == "rejected"
    assert run.output["reason"] == "no decision from the VP within 48 hours"
    assert run.output["approvals"] == ["mgr-1"]
    assert tester.calls(expense_approval.pay_expense) == 0
    assert run.elapsed == timedelta(hours=1) + expense_approval.DECISION_TIMEOUT
    assert [task.status for task in tester.tasks] == ["approved", "timed_out"]


def test_the_managers_rejection_ends_it_with_their_comment() -> None:
    """A rejection by the manager rejects the expense without asking the VP."""
    tester = WorkflowTester()
    tester.decide(
        "manager-approval", "rejected", by="mgr-1", comment="no receipt", after=timedelta(hours=2)
    )

    run = tester.run(expense_approval.expense_approval, expense(5000))

    assert run.output == {"status": "rejected", "reason": "no receipt", "approvals": []}
    assert run.step_names() == ["submit", "manager-approval", "reject"]
    assert len(tester.tasks) == 1


def test_only_the_named_approvers_decisions_count() -> None:
    """An approval by someone else (even the VP at the manager's stage) is refused."""
    tester = WorkflowTester()
    tester.decide("manager-approval", "approved", by="vp-1", after=timedelta(hours=1))
    tester.decide("manager-approval", "approved", by="emp-1", after=timedelta(hours=2))

    run = tester.run(expense_approval.expense_approval, expense(200))

    assert tester.desk.refused == [("manager-approval", "vp-1"), ("manager-approval", "emp-1")]
    assert run.output["status"] == "rejected"
    assert run.output["reason"] == "no decision from the manager within 48 hours"
    assert run.elapsed == expense_approval.DECISION_TIMEOUT


def test_the_employee_cannot_approve_their_own_expense() -> None:
    """Four-eyes: the employee who asked is refused even when named as the manager."""
    tester = WorkflowTester()
    own = {**expense(300), "manager": "emp-1"}
    tester.decide("manager-approval", "approved", by="emp-1", after=timedelta(hours=1))

    run = tester.run(expense_approval.expense_approval, own)

    assert tester.desk.refused == [("manager-approval", "emp-1")]
    assert run.output["status"] == "rejected"
    assert tester.calls(expense_approval.pay_expense) == 0


def test_the_manager_cannot_also_be_the_vp() -> None:
    """Four-eyes: whoever gave the manager's approval cannot give the VP's too."""
    tester = WorkflowTester()
    same = {**expense(2500), "vp": "mgr-1"}
    tester.decide("manager-approval", "approved", by="mgr-1", after=timedelta(hours=1))
    tester.decide("vp-approval", "approved", by="mgr-1", after=timedelta(hours=2))

    run = tester.run(expense_approval.expense_approval, same)

    assert tester.desk.refused == [("vp-approval", "mgr-1")]
    assert run.output["status"] == "rejected"
    assert run.output["approvals"] == ["mgr-1"]
