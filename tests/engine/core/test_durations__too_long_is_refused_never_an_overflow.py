"""A duration too long for any date (a code workflow's `sleep(10**12)`) fails the run with a
DefinitionError naming the value, never with Python's OverflowError."""

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.core import DefinitionError, sleep, wait_for, workflow
from engine.core.durations import duration_bound_problem, later
from engine.core.testing import WorkflowTester


@workflow("test-durations-long-sleep")
def sleeps(arguments: dict[str, Any]) -> None:
    sleep(arguments["seconds"])


@workflow("test-durations-long-wait")
def waits(arguments: dict[str, Any]) -> None:
    wait_for("Order.paid", timeout=arguments["seconds"])


@pytest.mark.parametrize("seconds", [10**12, 10**400, 1e300, float("inf")])
@pytest.mark.parametrize("flow", ["test-durations-long-sleep", "test-durations-long-wait"])
def test_a_sleep_or_wait_past_the_calendar_fails_the_run_naming_the_value(
    flow: str, seconds: float
) -> None:
    run = WorkflowTester().run(flow, {"seconds": seconds})
    assert run.status == "failed"
    assert run.error is not None, run
    assert DefinitionError.__name__ in run.error["type"], run.error
    assert "too long to schedule" in run.error["message"], run.error
    assert "Overflow" not in str(run.error)


def test_later_adds_what_fits_and_names_what_does_not() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert later(start, 86_400, "x") == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(DefinitionError, match=r"sleep duration of 1e\+300 seconds"):
        later(start, 1e300, "sleep duration")
    with pytest.raises(DefinitionError, match="nan seconds"):
        later(start, float("nan"), "sleep duration")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("365d", None),
        (31_536_000, None),
        ("53w", "must be at most 365 days (31536000 seconds)"),
        ("99999999w", "must be at most 365 days (31536000 seconds)"),
        (1e300, "must be at most 365 days (31536000 seconds)"),
        (0, "must be more than 0"),
        ("0s", "must be more than 0"),
        ("-5d", "must be more than 0"),
        (-5, None),  # the schema's own minimum names a negative number
        ("not a duration", None),  # the schema's pattern reports it
    ],
)
def test_bounds_hold_whichever_way_a_duration_is_written(value: Any, problem: str | None) -> None:
    bounds = {"exclusiveMinimum": 0, "maximum": 31_536_000}
    assert duration_bound_problem(value, bounds) == problem
