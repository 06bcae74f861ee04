"""Property: a run interrupted after any set of its journaled steps (a worker dying right after
a commit) and replayed from its journal ends exactly as the uninterrupted run — the same
output, the same journal, and no step run more often."""

import random as python_random

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.testing import TestRun, WorkflowTester
from tests.engine.core.replay_flows import add, crash_points, flaky, flaky_attempts

# The steps journaled one by one (a parallel group's branches are journaled as a group).
JOURNALED = ["seed", "flaky", "step-0", "step-1", "step-2", "step-3", "sum"]


def run_once(crash_after: set[str]) -> tuple[TestRun, dict[str, int]]:
    flaky_attempts.clear()
    python_random.seed(20261206)  # random() is journaled; the two runs draw the same
    tester = WorkflowTester()
    for name in crash_after:
        tester.interrupt_after(name)
    result = tester.run(crash_points, {"start": 5})
    return result, {"add": tester.calls(add), "flaky": tester.calls(flaky)}


BASELINE, BASELINE_CALLS = run_once(set())


def test_the_uninterrupted_run_is_what_the_property_compares_with() -> None:
    assert BASELINE.status == "completed"
    assert BASELINE.output["total"] == sum(16 + n for n in range(3)) + 1
    assert BASELINE_CALLS == {"add": 9, "flaky": 2}
    assert {name for name, _, _ in BASELINE.steps} >= set(JOURNALED)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(JOURNALED)))
def test_any_crash_points_give_the_same_run(crash_after: set[str]) -> None:
    result, calls = run_once(crash_after)
    assert result.status == "completed"
    assert result.output == BASELINE.output
    assert result.steps == BASELINE.steps
    assert calls == BASELINE_CALLS  # a journaled step never runs again
    assert result.advances >= BASELINE.advances + len(crash_after)
