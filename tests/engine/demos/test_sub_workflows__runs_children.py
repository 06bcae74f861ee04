"""A parent workflow runs sub-workflows as children and uses or survives their results."""

from engine.core.testing import WorkflowTester
from engine.demos import sub_workflows

LEAD = {"email": "ada@acme.example", "domain": "acme.example", "title": "CTO"}


def test_the_parent_runs_both_children_and_combines_their_outputs() -> None:
    """lead-intake runs verify-email and enrich-data as children and returns both results."""
    tester = WorkflowTester()

    run = tester.run(sub_workflows.lead_intake, LEAD)

    assert run.status == "completed"
    assert run.output["email"] == {
        "email": "ada@acme.example",
        "valid": True,
        "mx": "mx.acme.example",
    }
    assert run.output["lead"]["score"] == 100
    children = tester.children(run.id)
    assert [child.step_names() for child in children] == [
        ["check-syntax", "check-mail-server"],
        ["lookup-company", "score-lead"],
    ]
    assert all(child.status == "completed" for child in children)


def test_a_failed_child_is_caught_by_the_parent() -> None:
    """When verify-email fails, the parent records the email as unverified and carries on."""
    tester = WorkflowTester()

    run = tester.run(sub_workflows.lead_intake, {**LEAD, "email": "ada@invalid.example"})

    assert run.status == "completed"
    assert run.output["email"] == {
        "email": "ada@invalid.example",
        "valid": None,
        "reason": "failed",
    }
    assert [child.status for child in tester.children(run.id)] == ["failed", "completed"]


def test_a_malformed_address_is_invalid_without_a_server_check() -> None:
    """verify-email stops at the syntax check for an address without a domain."""
    tester = WorkflowTester()

    run = tester.run(sub_workflows.verify_email_workflow, "not-an-address")

    assert run.output == {"email": "not-an-address", "valid": False, "reason": "syntax"}
    assert tester.calls(sub_workflows.check_mail_server) == 0
