"""Retry policies: a transient failure is retried after its back-off; some errors never are."""

from datetime import timedelta

from engine.core.testing import WorkflowTester
from engine.demos import retries


def test_a_transient_failure_succeeds_on_the_second_attempt() -> None:
    """One transient error, then success: the step completes on attempt 2 after about 1 s."""
    tester = WorkflowTester()
    tester.fake(retries.call_external_api, raises=[RuntimeError("transient"), {"ok": True}])

    run = tester.run(retries.api_call, {"lead": 1})

    assert run.status == "completed"
    assert run.output == {"ok": True}
    assert run.steps == [("call-api", "completed", 2)]
    assert tester.calls(retries.call_external_api) == 2
    # 1 s exponential start, ±10 % jitter; the wait is a durable timer on the virtual clock.
    assert timedelta(seconds=0.9) <= run.elapsed <= timedelta(seconds=1.1)


def test_the_step_fails_for_good_after_three_attempts() -> None:
    """Three failures exhaust the policy; the back-off was about 1 s then 2 s."""
    tester = WorkflowTester()
    tester.fake(retries.call_external_api, raises=ConnectionError("down"))

    run = tester.run(retries.api_call, {"lead": 1})

    assert run.status == "failed"
    assert run.steps == [("call-api", "failed", 3)]
    assert tester.calls(retries.call_external_api) == 3
    assert timedelta(seconds=2.7) <= run.elapsed <= timedelta(seconds=3.3)
    assert run.error is not None and run.error["cause"]["type"] == "ConnectionError"


def test_linear_back_off_waits_longer_each_time() -> None:
    """fetch-changes retries after 2, 4 and 6 seconds and succeeds on attempt 4."""
    tester = WorkflowTester()
    tester.fake(
        retries.fetch_changes,
        raises=[TimeoutError(), TimeoutError(), TimeoutError(), [{"id": "c1", "name": "Ada"}]],
    )

    run = tester.run(retries.partner_sync, {"since": "cursor-1"})

    assert run.output == {"pushed": 1}
    assert run.steps[0] == ("fetch-changes", "completed", 4)
    assert run.elapsed == timedelta(seconds=2 + 4 + 6)


def test_fixed_back_off_waits_the_same_each_time() -> None:
    """push-changes retries every 5 seconds."""
    tester = WorkflowTester()
    tester.fake(retries.push_changes, raises=[OSError(), OSError(), {"pushed": 1}])

    run = tester.run(retries.partner_sync, {"since": "cursor-1"})

    assert run.steps[1] == ("push-changes", "completed", 3)
    assert run.elapsed == timedelta(seconds=10)


def test_a_listed_non_retryable_error_fails_at_once() -> None:
    """A ValueError is in push-changes' non_retryable list: one attempt, no waiting."""
    tester = WorkflowTester()
    tester.fake(retries.push_changes, raises=ValueError("malformed record"))

    run = tester.run(retries.partner_sync, {"since": "cursor-1"})

    assert run.status == "failed"
    assert run.steps[1] == ("push-changes", "failed", 1)
    assert run.elapsed == timedelta(0)


def test_a_non_retryable_error_subclass_fails_at_once() -> None:
    """A record without a name raises RecordRejected (a NonRetryableError): one attempt."""
    tester = WorkflowTester()
    tester.fake(retries.fetch_changes, returns=[{"id": "c1"}])

    run = tester.run(retries.partner_sync, {"since": "cursor-1"})

    assert run.status == "failed"
    assert tester.calls(retries.push_changes) == 1
    assert run.error is not None
    assert run.error["cause"]["type"] == "engine.demos.retries.RecordRejected"
