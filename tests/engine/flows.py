"""Code workflows the engine's integration tests run through real workers.

Steps write their side effects to a plain table keyed by their idempotency key, the way a
step calling an outside system would pass the key along.
"""

import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from engine.core import (
    Retry,
    Saga,
    StepFailed,
    WaitTimeout,
    current_step,
    idempotency_key,
    metric,
    parallel,
    progress,
    run_child,
    sleep,
    start_child,
    step,
    wait_for,
    workflow,
)
from engine.models import StepRecord

EFFECTS_TABLE = """
CREATE TABLE IF NOT EXISTS test_side_effects (
    key TEXT PRIMARY KEY, step TEXT NOT NULL, executions INTEGER NOT NULL DEFAULT 1
)
"""


def record_effect(step_name: str) -> None:
    """Write the step's effect once per idempotency key; count every execution."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO test_side_effects (key, step) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET executions = test_side_effects.executions + 1",
            [idempotency_key(), step_name],
        )


@step
def effect(name: str, pause: float = 0.0) -> str:
    if pause:
        time.sleep(pause)
    record_effect(name)
    return name


@workflow("test-sequence")
def sequence(input: dict[str, Any]) -> list[str]:
    """Run N steps in order, each leaving one effect."""
    done = []
    for index in range(input["steps"]):
        done.append(effect.named(f"step-{index + 1}")(f"step-{index + 1}", input.get("pause", 0.0)))
        progress(index + 1, input["steps"])
    metric("steps", input["steps"])
    return done


@step
def nothing(index: int) -> int:
    return index


@workflow("test-no-op-steps")
def no_op_steps(input: dict[str, Any]) -> int:
    """Run N steps that do nothing, in order (each reporting progress, if asked): what
    bench/engine.py times, and what the step budget test counts statements of."""
    for index in range(input["steps"]):
        nothing(index)
        if input.get("progress"):
            progress(index + 1, input["steps"])
    return int(input["steps"])


@workflow("test-no-op-steps-in-time", timeout=timedelta(hours=1))
def no_op_steps_in_time(input: dict[str, Any]) -> int:
    """N steps that do nothing, under a run timeout that never passes: what a run timeout
    adds to a run's statements."""
    for index in range(input["steps"]):
        nothing(index)
    return int(input["steps"])


def released(gate: str) -> bool:
    """Whether the test opened `gate` (a row keyed `release-<gate>` in the effects table)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM test_side_effects WHERE key = %s", [f"release-{gate}"])
        return cursor.fetchone() is not None


@step
def held_until_released(gate: str) -> str:
    """Runs until the test opens its gate (20 s at most): a step the test acts on mid-run."""
    record_effect("held")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not released(gate):
        time.sleep(0.05)
    return "released"


@step
def undo_held(gate: str) -> str:
    record_effect("undo-held")
    return "undone"


@workflow("test-held-step")
def held_step(input: dict[str, Any]) -> str:
    """A quick step, one held until the test releases it (undone by a compensation when
    cancelled), then another quick one."""
    with Saga() as undo:
        effect("before")
        held_until_released(input["gate"])
        undo.add(undo_held.call(input["gate"]))
        return effect("after")


@workflow("test-held-step-in-time", timeout=1, compensate_on_cancel=False)
def held_step_in_time(input: dict[str, Any]) -> str:
    """The held step under a one-second run timeout, never undone."""
    effect("before")
    held_until_released(input["gate"])
    return effect("after")


@workflow("test-sleep")
def sleeper(input: dict[str, Any]) -> str:
    """Sleep durably, then finish."""
    sleep(timedelta(seconds=input["seconds"]))
    return effect("after-sleep")


@workflow("test-wait")
def waiter(input: dict[str, Any]) -> dict[str, Any]:
    """Wait for a decision about this order; remind once on timeout, then give up."""
    try:
        event = wait_for(
            "Approval.decided",
            match={"order_id": input["order_id"]},
            timeout=timedelta(seconds=input.get("timeout", 60)),
        )
    except WaitTimeout:
        effect("remind")
        event = wait_for(
            "Approval.decided",
            match={"order_id": input["order_id"]},
            timeout=timedelta(seconds=input.get("timeout", 60)),
        )
    return {"approved": event["payload"]["approved"], "event": event["id"]}


@step(retry=Retry(max_attempts=3, backoff="fixed", initial_delay=0.2, jitter=0))
def flaky(fail_times: int) -> str:
    record_effect("flaky")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT executions FROM test_side_effects WHERE key = %s", [idempotency_key()]
        )
        (executions,) = cursor.fetchone()
    if executions <= fail_times:
        raise ConnectionError(f"attempt {executions} failed")
    return "ok"


@workflow("test-retry")
def retrying(input: dict[str, Any]) -> str:
    """One flaky step that fails a few times before it works."""
    return flaky(input["fail_times"])


@step
def square(number: int) -> int:
    record_effect(f"square-{number}")
    metric("squared", number * number)  # reported from a step running on its own
    return number * number


@workflow("test-parallel")
def fan_out(input: dict[str, Any]) -> int:
    """Square numbers in parallel, a few at a time, then add them up."""
    squares = parallel(
        [square.named(f"square-{n}").call(n) for n in input["numbers"]],
        concurrency=input.get("concurrency"),
    )
    return sum(squares)


@workflow("test-parent")
def parent(input: dict[str, Any]) -> dict[str, Any]:
    """Run a child workflow and use its result."""
    child_output = run_child("test-sequence", {"steps": input["child_steps"]})
    return {"child": child_output}


@workflow("test-fan-out")
def many_children(input: dict[str, Any]) -> list[int]:
    """Start N detached children that do nothing, one after another."""
    return [
        start_child("test-sequence", {"steps": 0}, detached=True).run_id
        for _ in range(input["children"])
    ]


@step
def reserve(items: list[str]) -> dict[str, Any]:
    record_effect("reserve")
    return {"items": items}


@step
def release(reservation: dict[str, Any]) -> None:
    record_effect("release")


@step
def charge(amount: int) -> str:
    if amount > 100:
        raise ValueError("card declined")
    return "charged"


@workflow("test-saga")
def saga(input: dict[str, Any]) -> str:
    """Reserve, then charge; a declined charge releases the reservation."""
    try:
        with Saga() as compensations:
            reservation = reserve(input["items"])
            compensations.add(release.call(reservation))
            return charge(input["amount"])
    except StepFailed:
        return "released"


@workflow("test-wait-simple")
def wait_simple(input: dict[str, Any]) -> int:
    """Wait for the event carrying this run's number, then finish with it."""
    event = wait_for("Load.released", match={"n": input["n"]})
    return int(event["payload"]["n"])


@workflow("test-timeout", timeout=1)
def too_slow(input: Any) -> str:
    """Sleeps past its own run timeout."""
    sleep(60)
    return "never"


@workflow("test-cached", cache=60)
def cached(input: dict[str, Any]) -> str:
    """Its output is kept for a minute per input."""
    return effect(f"cached-{input['n']}")


@step
def journaled_by_another(label: str) -> str:
    """Writes this attempt's own journal entry first, as a second advancer that took the run
    meanwhile would: the engine's write of it then finds the position taken."""
    info = current_step()
    assert info is not None
    StepRecord.objects.create(
        run_id=info.run_id,
        seq=info.seq,
        attempt=info.attempt,
        kind="step",
        name="journaled_by_another",
        status="completed",
        output=f"{label} by the other advancer",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    return label


@workflow("test-last-step-journaled-twice")
def last_step_journaled_twice(input: dict[str, Any]) -> str:
    """Its last step's position is journaled by someone else before its end is written."""
    nothing(0)
    return journaled_by_another("last")
