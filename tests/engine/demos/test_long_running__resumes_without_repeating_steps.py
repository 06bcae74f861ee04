"""Long-running workflows survive a crash without repeating steps and wait for days durably."""

from datetime import timedelta
from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import long_running, sequential

DATA = {"dataset": "sales-2025", "rows": [1, 2, 3]}


def test_a_crash_after_the_first_step_does_not_run_it_again() -> None:
    """After a crash right after `process`, the replay reuses its result and carries on."""
    tester = WorkflowTester()
    tester.interrupt_after("process")

    run = tester.run(long_running.long_running, DATA)

    assert run.status == "completed"
    assert run.advances == 2  # the interrupted execution and the replay
    assert tester.calls(long_running.process_dataset) == 1
    assert tester.calls(long_running.upload_results) == 1
    assert tester.calls(long_running.notify_completion) == 1
    assert run.output["uploaded"]["rows"] == 3
    assert run.step_names() == ["process", "upload", "notify"]


def test_a_crash_after_the_second_step_repeats_neither() -> None:
    """A crash after `upload` replays both finished steps from the journal."""
    tester = WorkflowTester()
    tester.interrupt_after("upload")

    run = tester.run(long_running.long_running, DATA)

    assert run.status == "completed"
    assert tester.calls(long_running.process_dataset) == 1
    assert tester.calls(long_running.upload_results) == 1


def reminder_times(tester: WorkflowTester) -> list[timedelta]:
    times: list[timedelta] = []

    def remind(cart: dict[str, Any], number: int) -> dict[str, Any]:
        times.append(tester.clock - tester.started)
        return {"sent": True}

    tester.fake(long_running.send_cart_reminder, remind)
    return times


def test_an_abandoned_cart_is_reminded_after_an_hour_and_after_a_day() -> None:
    """With no checkout, reminders go out at 1 hour and 24 hours, then the run ends."""
    tester = WorkflowTester()
    times = reminder_times(tester)

    run = tester.run(long_running.abandoned_cart, {"id": "cart-1", "email": "ada@example.com"})

    assert run.output == {"checkedOut": False, "orderId": None, "reminders": 2}
    assert times == [timedelta(hours=1), timedelta(hours=24)]
    assert run.step_names() == ["reminder-1", "reminder-2"]


def test_a_checkout_stops_the_reminders() -> None:
    """A checkout three hours in ends the run after the first reminder only."""
    tester = WorkflowTester()
    times = reminder_times(tester)
    tester.send_event("Cart.checked_out", {"cartId": "cart-2"}, after=timedelta(hours=2))
    tester.send_event(
        "Cart.checked_out", {"cartId": "cart-1", "orderId": "ord-9"}, after=timedelta(hours=3)
    )

    run = tester.run(long_running.abandoned_cart, {"id": "cart-1", "email": "ada@example.com"})

    assert run.output == {"checkedOut": True, "orderId": "ord-9", "reminders": 1}
    assert times == [timedelta(hours=1)]
    assert run.elapsed == timedelta(hours=3)


def test_run_at_sleeps_until_the_moment_then_runs_the_workflow() -> None:
    """run-at sleeps durably until the given time, then runs the workflow as a child."""
    tester = WorkflowTester()
    moment = tester.clock + timedelta(days=2, hours=3)

    run = tester.run(
        long_running.run_at,
        {
            "workflow": "customer-onboarding",
            "run_at": moment.isoformat(),
            "input": {"id": "cus-1", "email": "ada@example.com"},
        },
    )

    assert run.status == "completed"
    assert run.elapsed == timedelta(days=2, hours=3)
    assert run.output["account"]["id"] == "acct-cus-1"
    (child,) = tester.children(run.id)
    assert child.step_names() == ["welcome-email", "create-account", "schedule-call"]
    assert tester.calls(sequential.create_account) == 1


def test_run_at_refuses_a_time_without_a_zone() -> None:
    """A naive run_at fails the run with a message naming the field."""
    run = WorkflowTester().run(
        long_running.run_at, {"workflow": "customer-onboarding", "run_at": "2026-02-01T09:00:00"}
    )

    assert run.status == "failed"
    assert run.error is not None and run.error["message"].startswith("run_at:")
