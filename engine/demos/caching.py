# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Caching: a step's output, or a whole run's, is reused for the same input for an hour."""

from datetime import timedelta
from typing import Any

from engine.core import step, workflow

CACHE_FOR = timedelta(hours=1)


@step(name="expensive", cache=CACHE_FOR)
def complex_calculation(numbers: list[float]) -> dict[str, Any]:
    """A costly computation (simulated), cached by its arguments for an hour."""
    total = sum(numbers)
    return {"count": len(numbers), "total": total, "mean": total / len(numbers) if numbers else 0}


@workflow("expensive-operation", cache=CACHE_FOR, tags=("demo", "caching"))
def expensive_operation(input: dict[str, Any]) -> dict[str, Any]:
    """Compute statistics once per input per hour; both the step and the run are cached."""
    # cache= on the workflow: starting it again with the same input within the hour ends at
    # once with the earlier output. cache= on the step: another workflow run (any input) that
    # calls it with the same arguments takes the cached output instead of running it.
    result: dict[str, Any] = complex_calculation(input["numbers"])
    return result
