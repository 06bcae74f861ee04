"""Replay guards: non-determinism cannot be swallowed; compensations, children, reports."""

from datetime import timedelta

import pytest

from engine.core.testing import WorkflowTester
from tests.engine.core import replay_flows


@pytest.fixture(autouse=True)
def reset() -> None:
    replay_flows.paths["first"] = "first"
    replay_flows.compensated.clear()


def test_non_determinism_fails_the_run_even_inside_except_exception() -> None:
    tester = WorkflowTester()
    tester.interrupt_after("first")
    replay_flows.paths["first"] = "first"

    original = replay_flows.first.fn

    def switch_then_run() -> str:
        replay_flows.paths["first"] = "second"  # the replay will take the other branch
        return original()

    tester.fake(replay_flows.first, switch_then_run)
    result = tester.run("core-test-swallow")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error["type"] == "engine.core.errors.NonDeterminismError"
    assert "recorded step 'first'" in result.error["message"]


def test_every_compensation_runs_newest_first_even_when_one_fails() -> None:
    result = WorkflowTester().run("core-test-saga")
    assert replay_flows.compensated == ["newest", "broken", "oldest"]
    assert result.status == "completed"
    assert result.output == "fail"  # the original failure, not the compensation's


def test_a_detached_child_outlives_its_failing_parent() -> None:
    tester = WorkflowTester()
    parent = tester.run("core-test-detached")
    assert parent.status == "failed"
    attached = tester.children(parent.id)
    assert [child.status for child in attached] == ["cancelled"]
    tester.send_event("Child.go")
    tester.resume()
    statuses = sorted(tester.result(run_id).status for run_id in (2, 3))
    assert statuses == ["cancelled", "completed"]


def test_a_filter_that_does_not_compile_fails_at_the_wait() -> None:
    result = WorkflowTester().run("core-test-bad-filter")
    assert result.status == "failed"
    assert result.error is not None
    assert "wait_for(filter=...)" in result.error["message"]


def test_progress_and_metrics_can_be_reported_from_inside_a_step() -> None:
    result = WorkflowTester().run("core-test-report")
    assert result.status == "completed"
    assert result.progress == [{"current": 1, "total": 2, "message": "half way inside the step"}]
    assert result.metrics == [("rows", 42.0)]


def test_the_harness_serves_a_cached_run_until_it_expires() -> None:
    tester = WorkflowTester()
    assert tester.run("core-test-cached", 3).output == 9
    assert tester.run("core-test-cached", 3).steps == []  # served from the cache
    assert tester.run("core-test-cached", 4).steps == [("compute", "completed", 1)]
    tester.clock += timedelta(minutes=2)
    assert tester.run("core-test-cached", 3).steps == [("compute", "completed", 1)]


def test_a_cached_step_is_journaled_without_running_again() -> None:
    tester = WorkflowTester()
    assert tester.run("core-test-step-cache", "a").output == "A"
    second = tester.run("core-test-step-cache", "a")
    assert second.output == "A"
    assert second.steps == [("lookup", "completed", 1)]
    assert tester.calls(replay_flows.lookup) == 1
