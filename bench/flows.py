"""What bench/engine.py measures: a workflow of no-op steps and the raw Celery task it races.

Workers import this module through STEPWISE_WORKFLOW_MODULES=bench.flows, so both the
workflow and the task are registered before the first message arrives.
"""

if __name__ == "__main__":
    # `make bench` runs every file in bench/. Run as a script, this folder would come first on
    # sys.path and bench/engine.py would shadow the engine package, so stop here.
    print("bench/flows.py only defines what bench/engine.py measures")
    raise SystemExit(0)

import time
from datetime import datetime
from typing import Any

from celery import shared_task
from django.db import connection

from engine.core import (
    State,
    StateMachine,
    Transition,
    action,
    approval,
    parallel,
    register_machine,
    sleep_until,
    step,
    wait_for,
    workflow,
)

CHAIN_DONE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_chain_done (id TEXT PRIMARY KEY, done_at TIMESTAMPTZ NOT NULL)
"""


@step
def noop(index: int) -> int:
    return index


@workflow("bench-steps")
def steps(input: dict[str, Any]) -> int:
    """Run N no-op steps in order."""
    for index in range(input["steps"]):
        noop(index)
    return int(input["steps"])


@workflow("bench-steps-in-time", timeout=3600)
def steps_in_time(input: dict[str, Any]) -> int:
    """The same N no-op steps under a run timeout that never passes: what arming and closing
    a run timeout adds to a run."""
    for index in range(input["steps"]):
        noop(index)
    return int(input["steps"])


@shared_task(name="bench.noop")
def noop_task(marker: str | None = None) -> None:
    # Only the last task of a chain carries a marker: the database row is its finish line,
    # as the run's status is the workflow's (no result backend is configured).
    if marker is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_chain_done (id, done_at) VALUES (%s, now()) "
                "ON CONFLICT (id) DO NOTHING",
                [marker],
            )


@action("bench.noop")
def noop_action(index: int) -> int:
    """What bench/graph_overhead.py calls from both the code workflow and the graph."""
    return index


@workflow("bench-actions")
def actions_in_code(input: dict[str, Any]) -> int:
    """Call the bench.noop action N times in order: the code twin of the bench graph."""
    for index in range(input["steps"]):
        noop_action.named(f"n{index}")(index)
    return int(input["steps"])


# What bench/machines.py measures: a switch flipped by events, with one step as its action so
# the journal is exercised, as a machine's actions are.
@step(name="bench-count-flip")
def count_flip(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {"context": {"flips": int(context.get("flips", 0)) + 1}}


register_machine(
    "bench-switch",
    StateMachine(
        initial="off",
        context={"flips": 0},
        states={
            "off": State(on={"flip": Transition("on", action=count_flip)}),
            "on": State(on={"flip": Transition("off", action=count_flip)}),
        },
    ),
    title="Bench switch",
)


@step
def paced(index: int, pause: float) -> int:
    """What bench/live_latency.py watches: a step that takes a moment, then completes."""
    time.sleep(pause)
    return index


@workflow("bench-paced")
def paced_steps(input: dict[str, Any]) -> int:
    """N steps one after another, each taking `pause` seconds (the first `lead` seconds)."""
    for index in range(input["steps"]):
        pause = input["lead"] if index == 0 else input["pause"]
        paced.named(f"paced-{index}")(index, pause)
    return int(input["steps"])


# What bench/waiting.py parks by the thousand: three ways to wait, each followed by one step
# whose start is when the run moved again.
@workflow("bench-sleep")
def sleeping(input: dict[str, Any]) -> int:
    sleep_until(datetime.fromisoformat(input["until"]))
    return noop.named("after-sleep")(0)


@workflow("bench-wait")
def waiting_for_event(input: dict[str, Any]) -> int:
    wait_for("Bench.go", match={"key": input["key"]})
    return noop.named("after-wait")(0)


@workflow("bench-approval")
def waiting_for_approval(input: dict[str, Any]) -> int:
    approval("Bench approval", users=["bench-approver"])
    return noop.named("after-approval")(0)


@workflow("bench-parallel")
def parallel_branches(input: dict[str, Any]) -> int:
    """What bench/fanout.py fans out: N no-op steps at once, on any worker."""
    return len(
        parallel([noop.named(f"branch-{index}").call(index) for index in range(input["branches"])])
    )
