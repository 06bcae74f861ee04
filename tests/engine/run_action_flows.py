"""Code workflows for the run actions' tests: logging across replays, a fork point, a slow run."""

import time
from typing import Any

from engine.core import NonRetryableError, log, parallel, step, wait_for, workflow
from tests.engine.flows import record_effect


@step
def charge_logged(amount: int) -> int:
    log("charging %s", amount)
    record_effect("charge")
    return amount


@workflow("test-logged")
def logged(input: dict[str, Any]) -> int:
    """Logs in workflow code and in a step, then waits: the replay after the event must not
    log anything twice."""
    log("starting with %s", input["amount"], level="debug")
    charged = charge_logged(input["amount"])
    wait_for("Logged.go", match={"ref": input["ref"]})
    log("resumed after the event")
    return int(charged)


@step
def noisy(lines: int) -> int:
    for index in range(lines):
        log("line %d", index)
    return lines


@workflow("test-noisy")
def noisy_flow(input: dict[str, Any]) -> int:
    return int(noisy(input["lines"]))


@step
def prepare(order: str) -> str:
    record_effect("prepare")
    return f"prepared {order}"


@step
def charge_card(card: str) -> str:
    record_effect("charge")
    if card == "declined":
        raise NonRetryableError(f"card {card}")
    return f"charged {card}"


FORKABLE_SCHEMA = {
    "type": "object",
    "required": ["order", "card"],
    "properties": {"order": {"type": "string"}, "card": {"type": "string", "minLength": 1}},
}


@workflow("test-forkable", input_schema=FORKABLE_SCHEMA)
def forkable(input: dict[str, Any]) -> list[str]:
    """prepare at position 0, charge at 1: a declined card fails the run at 1."""
    prepared = prepare(input["order"])
    return [prepared, charge_card(input["card"])]


@step
def slow(index: int, pause: float) -> int:
    time.sleep(pause)
    record_effect(f"slow-{index}")
    return index


@workflow("test-slow")
def slow_flow(input: dict[str, Any]) -> list[int]:
    """N steps of `pause` seconds each: long enough to pause between two of them."""
    return [slow.named(f"slow-{index}")(index, input["pause"]) for index in range(input["steps"])]


@step
def square_logged(number: int) -> int:
    log("squaring %d", number)
    record_effect(f"square-{number}")
    return number * number


@workflow("test-fork-after-parallel")
def fork_after_parallel(input: dict[str, Any]) -> dict[str, Any]:
    """A parallel group at position 0, a charge at 1 that a declined card fails."""
    squares = parallel([square_logged.named(f"square-{n}").call(n) for n in input["numbers"]])
    return {"sum": sum(squares), "charge": charge_card(input["card"])}
