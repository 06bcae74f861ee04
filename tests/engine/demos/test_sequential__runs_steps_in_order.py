"""The onboarding workflow runs its three steps one after another."""

from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import sequential

CUSTOMER = {"id": "cus-1", "email": "ada@example.com"}


def test_onboarding_runs_its_three_steps_in_order() -> None:
    """Welcome email, account creation and call scheduling run in that order, once each."""
    tester = WorkflowTester()
    order: list[str] = []

    def recorder(name: str, result: Any) -> Any:
        def fake(*args: Any) -> Any:
            order.append(name)
            return result

        return fake

    tester.fake(sequential.send_welcome_email, recorder("welcome-email", {"sent": True}))
    tester.fake(sequential.create_account, recorder("create-account", {"id": "acct-cus-1"}))
    tester.fake(sequential.schedule_onboarding_call, recorder("schedule-call", {"ok": True}))

    run = tester.run(sequential.customer_onboarding, CUSTOMER)

    assert run.status == "completed"
    assert order == ["welcome-email", "create-account", "schedule-call"]
    assert run.steps == [
        ("welcome-email", "completed", 1),
        ("create-account", "completed", 1),
        ("schedule-call", "completed", 1),
    ]
    assert run.output == {"customer": CUSTOMER, "account": {"id": "acct-cus-1"}}


def test_onboarding_steps_receive_the_customer() -> None:
    """The simulated steps address the customer's email and create an active account."""
    tester = WorkflowTester()

    run = tester.run("customer-onboarding", CUSTOMER)

    assert run.output["account"]["status"] == "active"
    assert run.output["account"]["customer"] == "cus-1"
    assert tester.call_args(sequential.send_welcome_email) == [(["ada@example.com"], {})]
    assert tester.call_args(sequential.schedule_onboarding_call) == [(["ada@example.com"], {})]
