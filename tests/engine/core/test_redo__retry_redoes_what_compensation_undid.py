"""The retry-and-cancel rule in the harness (no database): a retried run re-does the steps its
compensations undid, a cancelled run undoes what it did, and the world agrees with the run."""

from datetime import timedelta

import pytest

from engine.core.testing import WorkflowTester
from tests.engine.core.redo_flows import world

ORDER = {"item": "lamp", "amount": 40, "order": "o-1"}


@pytest.fixture(autouse=True)
def fresh_world() -> None:
    world.reset()


def test_a_retry_reserves_again_what_the_failure_released() -> None:
    world.reset(declines=1)
    tester = WorkflowTester()
    failed = tester.run("redo-order", ORDER)
    assert failed.status == "failed"
    assert world.holds == {}  # the saga released the hold

    tester.retry(failed.id)
    tester.resume()
    done = tester.result(failed.id)

    assert done.status == "completed", done.error
    assert done.history == [
        ("reserve", "completed", 1),
        ("notify", "completed", 1),
        ("charge", "failed", 1),
        ("release", "completed", 1),
        ("reserve", "completed", 1),
        ("charge", "completed", 1),
    ]
    # One hold, made again under a new idempotency key: the first one's effect was undone.
    assert list(world.holds.values()) == ["lamp"]
    [key] = world.holds
    assert key.endswith(":reserve:redo-1")
    assert world.notices == ["reserved lamp"]  # a step nothing undid runs once
    assert len(world.charges) == 1


def test_a_compensation_the_workflow_chose_is_not_redone() -> None:
    """The fallback path released its first hold on purpose; a later failure's retry keeps it
    released and does not reserve the first choice again."""
    world.reset(declines=2)
    tester = WorkflowTester()
    failed = tester.run("redo-order-with-fallback", ORDER)
    assert failed.status == "failed"
    assert list(world.holds.values()) == ["second choice"]

    tester.retry(failed.id)
    tester.resume()
    done = tester.result(failed.id)
    assert done.status == "completed", done.error
    assert list(world.holds.values()) == ["second choice"]
    assert world.notices == ["fell back"]


def test_a_compensation_added_before_its_step_links_by_name() -> None:
    world.reset(declines=1)
    tester = WorkflowTester()
    failed = tester.run("redo-order-undo-first", ORDER)
    assert world.holds == {}
    tester.retry(failed.id)
    tester.resume()
    assert tester.result(failed.id).status == "completed"
    assert list(world.holds.values()) == ["lamp"]


def test_undoing_a_parallel_group_reserves_every_item_again() -> None:
    world.reset(declines=1)
    tester = WorkflowTester()
    failed = tester.run("redo-order-of-many", {"items": ["a", "b"], "amount": 5})
    assert world.holds == {}
    tester.retry(failed.id)
    tester.resume()
    assert tester.result(failed.id).status == "completed"
    assert sorted(world.holds.values()) == ["a", "b"]
    assert all(key.endswith(":redo-1") for key in world.holds)


def test_cancel_releases_the_hold_then_ends_cancelled() -> None:
    tester = WorkflowTester()
    waiting = tester.run("redo-order-waits", ORDER)
    assert waiting.status == "waiting"
    assert list(world.holds.values()) == ["lamp"]

    tester.cancel(waiting.id, "customer changed their mind")
    tester.resume()
    cancelled = tester.result(waiting.id)
    assert cancelled.status == "cancelled"
    assert cancelled.error == {"type": "Cancelled", "message": "customer changed their mind"}
    assert world.holds == {}
    assert world.charges == []


def test_a_workflow_that_opts_out_keeps_its_hold_when_cancelled() -> None:
    tester = WorkflowTester()
    waiting = tester.run("redo-order-keeps-holds", ORDER)
    tester.cancel(waiting.id)
    assert tester.result(waiting.id).status == "cancelled"
    assert list(world.holds.values()) == ["lamp"]


def test_a_cancelled_run_retried_reserves_again_and_waits_again() -> None:
    tester = WorkflowTester()
    run = tester.run("redo-order-waits", ORDER)
    tester.cancel(run.id)
    tester.resume()
    assert world.holds == {}

    tester.retry(run.id)
    tester.resume()
    assert tester.result(run.id).status == "waiting"
    assert list(world.holds.values()) == ["lamp"]
    tester.send_event("Order.confirmed", {"order": "o-1"})
    tester.resume()
    done = tester.result(run.id)
    assert done.status == "completed", done.error
    assert list(world.holds.values()) == ["lamp"]
    assert len(world.charges) == 1


def test_a_run_timeout_releases_the_hold_and_a_retry_gets_a_new_deadline() -> None:
    tester = WorkflowTester()
    run = tester.run("redo-order-in-time", ORDER)
    assert run.status == "timed_out"
    assert run.elapsed == timedelta(hours=1)
    assert world.holds == {}

    tester.retry(run.id)
    tester.send_event("Order.confirmed", {"order": "o-1"}, after=timedelta(minutes=30))
    tester.resume()
    done = tester.result(run.id)
    assert done.status == "completed", done.error
    assert list(world.holds.values()) == ["lamp"]


def test_retrying_a_parent_retries_the_child_that_failed() -> None:
    world.reset(declines=1)
    tester = WorkflowTester()
    parent = tester.run("redo-parent", ORDER)
    assert parent.status == "failed"
    [child] = tester.children(parent.id)
    assert child.status == "failed"
    assert world.holds == {}

    tester.retry(parent.id)
    tester.resume()
    assert tester.result(parent.id).status == "completed"
    [child] = tester.children(parent.id)
    assert child.status == "completed"
    assert list(world.holds.values()) == ["lamp"]
    assert world.notices == ["parent started", "reserved lamp"]


def test_cancel_without_undo_keeps_the_hold_and_a_cancelling_run_can_be_stopped() -> None:
    tester = WorkflowTester()
    first = tester.run("redo-order-waits", ORDER)
    tester.cancel(first.id, compensate=False)
    assert tester.result(first.id).status == "cancelled"
    assert list(world.holds.values()) == ["lamp"]

    second = tester.run("redo-order-waits", {**ORDER, "order": "o-2"})
    tester.cancel(second.id)
    with pytest.raises(ValueError, match="already cancelling"):
        tester.cancel(second.id)
    tester.cancel(second.id, compensate=False)  # before its undo ran
    assert tester.result(second.id).status == "cancelled"
    assert list(world.holds.values()) == ["lamp", "lamp"]
