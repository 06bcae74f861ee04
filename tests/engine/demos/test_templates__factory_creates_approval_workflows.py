"""The approval template creates invoice-approval and contract-approval, each acting alone."""

from datetime import timedelta

from engine.core import get_workflow
from engine.core.testing import WorkflowTester
from engine.demos import templates


def decided(tester: WorkflowTester, entity: str, approved: bool, **extra: str) -> None:
    tester.send_event(
        "Approval.decided",
        {"entity": entity, "itemId": "doc-1", "approved": approved, **extra},
        after=timedelta(hours=3),
    )


def test_both_templated_workflows_are_registered() -> None:
    """The factory registered invoice-approval and contract-approval with their own titles."""
    invoice = get_workflow("invoice-approval")
    contract = get_workflow("contract-approval")
    assert invoice is templates.invoice_approval
    assert contract is templates.contract_approval
    assert invoice.title.startswith("Invoice approval")
    assert contract.title.startswith("Contract approval")


def test_an_approved_invoice_is_approved() -> None:
    """An Invoice decision approves the invoice; its steps know they handle an Invoice."""
    tester = WorkflowTester()
    decided(tester, "Invoice", True, approver="fin-1")

    run = tester.run("invoice-approval", {"id": "doc-1"})

    assert run.output == {"approved": True, "by": "fin-1"}
    assert run.step_names() == ["request-approval", "approve"]
    assert tester.call_args(templates.approve) == [(["Invoice", {"id": "doc-1"}], {})]


def test_a_rejected_contract_is_rejected_with_the_comment() -> None:
    """A negative Contract decision rejects the contract, passing on the comment."""
    tester = WorkflowTester()
    decided(tester, "Contract", False, comment="clause 7")

    run = tester.run("contract-approval", {"id": "doc-1"})

    assert run.output == {"approved": False, "reason": "clause 7"}
    assert tester.call_args(templates.reject) == [(["Contract", {"id": "doc-1"}, "clause 7"], {})]
    assert tester.call_args(templates.request_approval)[0][0][0] == "Contract"


def test_a_decision_about_an_invoice_does_not_decide_a_contract() -> None:
    """A contract ignores an Invoice decision for the same id and is rejected after 24 hours."""
    tester = WorkflowTester()
    decided(tester, "Invoice", True)

    run = tester.run("contract-approval", {"id": "doc-1"})

    assert run.output == {"approved": False, "reason": "timeout"}
    assert run.elapsed == templates.APPROVAL_TIMEOUT
