"""approval() in the harness: its form is filled in on approval and journaled with the
decision, a rejection that must say why does, and a mistake in the call is a DefinitionError
at the call, naming the argument."""

import pytest

from engine.core import DefinitionError, approval, workflow
from engine.core.testing import WorkflowTester
from tests.engine import human_flows  # noqa: F401 - registers the workflows


def test_the_approvers_form_values_reach_the_run() -> None:
    tester = WorkflowTester()
    tester.decide("laptop", "approved", by="ana", form={"cost_centre": "R&D"})
    run = tester.run("ask-with-a-form", {})
    assert run.output == {"outcome": "approved", "form": {"cost_centre": "R&D"}}


def test_an_approval_without_the_form_or_a_silent_rejection_is_refused() -> None:
    tester = WorkflowTester()
    tester.decide("laptop", "approved", by="ana")
    with pytest.raises(ValueError, match=r"form\.cost_centre"):
        tester.run("ask-with-a-form", {})
    tester = WorkflowTester()
    tester.decide("laptop", "rejected", by="ana")
    with pytest.raises(ValueError, match="comment: say why"):
        tester.run("ask-with-a-form", {})


@workflow("core-test-bad-approval")
def bad_approval(input: dict) -> str:
    approval("Bad", users=["ana"], **input)
    return "unreachable"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"form": {"type": "array"}}, "(form=...): a JSON Schema object"),
        ({"comment_required": ["maybe"]}, "comment_required=...) takes some of approved, rejected"),
        ({"distinct_from": "manager"}, "distinct_from=...) takes a list"),
        ({"reminder": 10, "timeout": 5}, "reminder=...) must come before its timeout"),
        ({"escalate_to": {"users": ["boss"]}}, "escalate_to=...) needs a timeout"),
        ({"required": 0}, "required=...) must be a whole number"),
    ],
)
def test_a_mistake_in_the_call_names_the_argument(arguments: dict, message: str) -> None:
    run = WorkflowTester().run("core-test-bad-approval", arguments)
    assert run.status == "failed"
    assert run.error is not None and message in run.error["message"], run.error
    assert DefinitionError.__name__ in run.error["type"]


def test_a_timeout_on_business_hours_skips_the_night_and_the_weekend() -> None:
    """Asked on Friday at 15:00 Berlin time, eight working hours run out on Monday at 15:00."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    friday = datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    tester = WorkflowTester(start=friday)
    run = tester.run("ask-in-office-hours", {})
    assert run.output == {"outcome": "timeout"}
    assert tester.clock == datetime(2026, 11, 30, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_wrong_calendar_is_named_at_the_call() -> None:
    run = WorkflowTester().run("core-test-bad-approval", {"calendar": {"timezone": "Nowhere"}})
    assert run.error is not None
    assert "calendar=...).timezone: 'Nowhere' is not a time zone" in run.error["message"]


@workflow(
    "core-test-office-workflow",
    calendar={"timezone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"]},
)
def office_workflow(input: dict) -> str:
    return approval("Office", users=["ana"], timeout=4 * 3600, name="office").outcome


def test_a_workflows_calendar_is_the_default_of_its_approvals() -> None:
    """The workflow's business hours (09:00-17:00 by default) apply when the approval names
    none: four hours from Friday 15:00 end on Monday at 11:00."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    friday = datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    tester = WorkflowTester(start=friday)
    assert tester.run("core-test-office-workflow", {}).output == "timeout"
    assert tester.clock == datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_wrong_workflow_calendar_fails_when_declared() -> None:
    with pytest.raises(DefinitionError, match=r"calendar\.start"):
        workflow("core-test-bad-calendar", calendar={"start": "noon"})(lambda input: None)
