"""What bench/bulkheads.py measures: ten no-op steps, each through a bulkhead or not."""

if __name__ == "__main__":
    # `make bench` runs every file in bench/; this one only defines workflows.
    print("bench/bulkhead_flows.py only defines what bench/bulkheads.py measures")
    raise SystemExit(0)

from typing import Any

from engine.core import Bulkhead, step, workflow

STEPS = 10


@step(bulkhead=Bulkhead("bench-bulkhead", max_concurrent=1000))
def guarded(index: int) -> int:
    return index


@step
def plain(index: int) -> int:
    return index


@workflow("bench-bulkhead-steps")
def with_bulkhead(input: dict[str, Any]) -> int:
    """Ten steps, each taking and giving back a slot of a bulkhead that is never full."""
    for index in range(STEPS):
        guarded(index)
    return STEPS


@workflow("bench-plain-steps")
def without_bulkhead(input: dict[str, Any]) -> int:
    """The same ten steps without a bulkhead: the baseline."""
    for index in range(STEPS):
        plain(index)
    return STEPS
