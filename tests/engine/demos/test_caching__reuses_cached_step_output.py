"""Cached results are reused for the same input instead of running again."""

from engine.core.testing import WorkflowTester
from engine.demos import caching


def test_a_second_run_with_the_same_input_takes_the_cached_output() -> None:
    """The second run gets the first run's output from the run cache, running no step."""
    tester = WorkflowTester()
    outputs = iter([{"total": 1}, {"total": 2}])
    tester.fake(caching.complex_calculation, lambda numbers: next(outputs))

    first = tester.run(caching.expensive_operation, {"numbers": [1, 2, 3]})
    second = tester.run(caching.expensive_operation, {"numbers": [1, 2, 3]})

    assert first.output == second.output == {"total": 1}
    assert tester.calls(caching.complex_calculation) == 1
    assert second.steps == []  # served whole from the workflow's run cache


def test_other_arguments_are_not_served_from_the_cache() -> None:
    """A run with other numbers computes afresh."""
    tester = WorkflowTester()

    first = tester.run(caching.expensive_operation, {"numbers": [1, 2, 3]})
    second = tester.run(caching.expensive_operation, {"numbers": [4]})

    assert first.output == {"count": 3, "total": 6, "mean": 2.0}
    assert second.output == {"count": 1, "total": 4, "mean": 4.0}
    assert tester.calls(caching.complex_calculation) == 2


def test_the_step_and_the_workflow_are_declared_cached_for_an_hour() -> None:
    """Both cache= options are one hour."""
    assert caching.complex_calculation.cache_ttl == 3600
    assert caching.expensive_operation.cache_ttl == 3600
