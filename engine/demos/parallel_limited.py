# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Parallel execution with a concurrency limit: 100 operations, at most 10 at a time."""

from typing import Any

from engine.core import parallel, step, workflow

OPERATIONS = 100
CONCURRENCY = 10


@step
def operation(data: dict[str, Any], index: int) -> dict[str, Any]:
    """One unit of work (simulated: scales the input)."""
    return {"index": index, "value": data["factor"] * index}


@step(name="sequential")
def run_sequentially(data: dict[str, Any]) -> list[int]:
    """Three operations one after another inside a single step: simple, but slowest."""
    return [data["factor"] * number for number in (1, 2, 3)]


@workflow("parallel-processing", tags=("demo", "parallel-limited"))
def parallel_processing(data: dict[str, Any]) -> dict[str, Any]:
    """Process work three ways: in one step, 3 steps at once, 100 steps at most 10 at a time."""
    slow = run_sequentially(data)
    fast = parallel(
        [operation.named(f"fast-{n}").call(data, n) for n in (1, 2, 3)], name="parallel"
    )
    # Each operation is its own journaled step on any worker; no more than CONCURRENCY run at
    # once (a bulkhead), the rest queue, and results come back in the order of the calls.
    limited = parallel(
        [operation.named(f"operation-{index}").call(data, index) for index in range(OPERATIONS)],
        concurrency=CONCURRENCY,
        name="parallel-limited",
    )
    return {
        "slow": slow,
        "fast": [r["value"] for r in fast],
        "limited": [r["value"] for r in limited],
    }
