"""The order state machine follows valid events, refuses invalid ones and checks its guards."""

from datetime import timedelta
from typing import Any

from engine.core.testing import WorkflowTester
from engine.demos import state_machine

ORDER = {"id": "ord-5", "items": [{"productId": "sku-lamp", "quantity": 1}]}


def send(tester: WorkflowTester, kind: str, hours: float, **payload: Any) -> None:
    tester.send_event(kind, {"orderId": "ord-5", **payload}, after=timedelta(hours=hours))


def test_a_valid_path_ends_completed_after_the_return_window() -> None:
    """submit → pay → fulfill leads draft to completed; 30 quiet days later the run ends."""
    tester = WorkflowTester()
    send(tester, "Order.submitted", 1)
    send(tester, "Order.paid", 2, paymentId="pay-77")
    send(tester, "Order.fulfilled", 3)

    run = tester.run(state_machine.order_lifecycle, ORDER)

    assert run.status == "completed"
    assert run.output["state"] == "completed"
    assert [(h["from"], h["to"]) for h in run.output["history"]] == [
        ("draft", "pending"),
        ("pending", "processing"),
        ("processing", "completed"),
    ]
    assert run.output["context"]["paymentId"] == "pay-77"
    assert run.output["context"]["shipmentId"] == "ship-ord-5"
    assert run.elapsed == timedelta(hours=3) + state_machine.RETURN_WINDOW
    assert run.step_names() == [
        "announce-submission", "enter-pending", "update-order",
        "process-payment", "enter-processing", "update-order",
        "create-shipment", "enter-completed", "update-order",
    ]  # fmt: skip


def test_an_invalid_transition_is_refused_and_the_state_kept() -> None:
    """fulfill in draft is refused; the order stays draft, then submit and cancel apply."""
    tester = WorkflowTester()
    send(tester, "Order.fulfilled", 1)
    send(tester, "Order.submitted", 2)
    send(tester, "Order.cancelled", 3)

    run = tester.run(state_machine.order_lifecycle, ORDER)

    assert run.output["state"] == "cancelled"
    assert run.output["history"] == [
        {"event": "fulfill", "from": "draft", "rejected": "no such transition"},
        {"event": "submit", "from": "draft", "to": "pending"},
        {"event": "cancel", "from": "pending", "to": "cancelled"},
    ]
    assert tester.calls(state_machine.create_shipment) == 0
    assert run.elapsed == timedelta(hours=3)  # cancelled has no way out: the run ends there


def test_a_guard_refuses_to_submit_an_empty_order() -> None:
    """An order without items cannot be submitted: the run keeps waiting in draft."""
    tester = WorkflowTester()
    send(tester, "Order.submitted", 1)

    run = tester.run(state_machine.order_lifecycle, {"id": "ord-5", "items": []})

    assert run.status == "waiting"
    assert tester.calls(state_machine.announce_submission) == 0
    assert tester.calls(state_machine.update_order) == 0


def test_a_return_inside_the_window_is_accepted() -> None:
    """A return ten days after completion moves the order to returned, where it ends."""
    tester = WorkflowTester()
    send(tester, "Order.submitted", 1)
    send(tester, "Order.paid", 2)
    send(tester, "Order.fulfilled", 3)
    send(tester, "Order.returned", 3 + 24 * 10)

    run = tester.run(state_machine.order_lifecycle, ORDER)

    assert run.output["state"] == "returned"
    assert run.output["history"][-1] == {"event": "return", "from": "completed", "to": "returned"}


def test_the_return_guard_reads_the_completion_time() -> None:
    """The guard allows a return on day 30 and refuses one on day 31."""
    context = {"completedAt": "2026-01-05T12:00:00+00:00"}
    assert state_machine._within_return_window(
        context, {"received_at": "2026-02-04T12:00:00+00:00"}
    )
    assert not state_machine._within_return_window(
        context, {"received_at": "2026-02-05T12:00:01+00:00"}
    )
