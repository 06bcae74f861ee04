"""Workflows for the core's replay tests (steps must live at module level)."""

from typing import Any

from engine.core import (
    NonRetryableError,
    Retry,
    Saga,
    StepFailed,
    metric,
    now,
    parallel,
    progress,
    random,
    sleep,
    start_child,
    step,
    wait_for,
    workflow,
)

paths: dict[str, str] = {"first": "first"}


@step
def first() -> str:
    return "first"


@step
def second() -> str:
    return "second"


@workflow("core-test-swallow")
def swallow(input: Any) -> str:
    """Calls another step on replay than it journaled, inside except Exception."""
    try:
        (first if paths["first"] == "first" else second)()
        return "done"
    except Exception as error:
        return f"swallowed {type(error).__name__}"


compensated: list[str] = []


@step
def undo(name: str) -> None:
    compensated.append(name)
    if name == "broken":
        raise NonRetryableError("cannot undo")


@step
def fail() -> None:
    raise NonRetryableError("declined")


@workflow("core-test-saga")
def saga(input: Any) -> str:
    """Three compensations, the middle one broken."""
    try:
        with Saga() as compensations:
            compensations.add(undo.call("oldest"))
            compensations.add(undo.call("broken"))
            compensations.add(undo.call("newest"))
            fail()
    except StepFailed as failure:
        return failure.step
    return "no failure"


@workflow("core-test-child")
def child(input: Any) -> str:
    """A child that waits for an event."""
    wait_for("Child.go")
    return "child done"


@workflow("core-test-detached")
def detaching(input: Any) -> None:
    """Starts a detached and an attached child, then fails."""
    start_child("core-test-child", detached=True)
    start_child("core-test-child")
    raise RuntimeError("parent fails")


@workflow("core-test-bad-filter")
def bad_filter(input: Any) -> Any:
    """Waits with a filter that does not compile."""
    return wait_for("X.happened", filter="event.a ==== 1")


@step
def report_inside() -> int:
    progress(1, 2, "half way inside the step")
    metric("rows", 42)
    return 1


@workflow("core-test-report")
def reporting(input: Any) -> int:
    """Reports progress and a metric from inside a step."""
    return int(report_inside())


@workflow("core-test-cached", cache=60)
def cached_run(input: Any) -> int:
    """Squares its input; the run's output is kept for a minute."""
    first.named("compute")()
    return int(input) ** 2


@step(cache=60)
def lookup(key: str) -> str:
    return key.upper()


@workflow("core-test-step-cache")
def step_cached(input: Any) -> str:
    """Calls a cached step."""
    return str(lookup(input))


# --- the crash-point property (test_replay__any_crash_points_give_the_same_run) ---------------
@step
def add(total: int, amount: int) -> int:
    return total + amount


@step(retry=Retry(max_attempts=3, initial_delay=1, jitter=0))
def flaky(total: int) -> int:
    """Fails on its first attempt of every run (a retry back-off in the journal)."""
    flaky_attempts[total] = flaky_attempts.get(total, 0) + 1
    if flaky_attempts[total] == 1:
        raise RuntimeError("first attempt fails")
    return total * 2


flaky_attempts: dict[int, int] = {}


@workflow("core-test-crash-points")
def crash_points(input: Any) -> dict[str, Any]:
    """Steps, a retried step, a durable sleep, a parallel group and journaled values."""
    total = add.named("seed")(0, input["start"])
    started = now().isoformat()
    total = flaky(total)
    sleep(60, name="pause")
    for n in range(4):
        total = add.named(f"step-{n}")(total, n)
    parts = parallel([add.named(f"part-{n}").call(total, n) for n in range(3)], concurrency=2)
    total = add.named("sum")(sum(parts), 1)
    chosen = random()
    return {"total": total, "started": started, "chosen": chosen}
