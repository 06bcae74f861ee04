"""Workflows for the retry-and-cancel rule's tests: a little world of holds and charges."""

from datetime import timedelta
from typing import Any

from engine.core import (
    NonRetryableError,
    Saga,
    idempotency_key,
    parallel,
    run_child,
    step,
    wait_for,
    workflow,
)


class World:
    """What the steps did to the outside: holds by idempotency key, charges, notices."""

    def __init__(self) -> None:
        self.holds: dict[str, str] = {}
        self.charges: list[str] = []
        self.notices: list[str] = []
        self.declines_left = 0

    def reset(self, declines: int = 0) -> None:
        self.__init__()  # type: ignore[misc]
        self.declines_left = declines


world = World()


@step(name="reserve")
def reserve(item: str) -> str:
    key = idempotency_key()
    world.holds[key] = item
    return key


@step(name="release")
def release(hold: str) -> str:
    world.holds.pop(hold, None)
    return hold


@step(name="notify")
def notify(text: str) -> None:
    world.notices.append(text)


@step(name="charge")
def charge(amount: int) -> str:
    if world.declines_left > 0:
        world.declines_left -= 1
        raise NonRetryableError("declined")
    world.charges.append(idempotency_key())
    return f"paid {amount}"


@workflow("redo-order")
def order(input: dict[str, Any]) -> str:
    """Reserve, tell someone, charge; the saga releases the hold when the charge fails."""
    with Saga() as saga:
        hold = reserve(input["item"])
        saga.add(release.call(hold))
        notify(f"reserved {input['item']}")
        return str(charge(input["amount"]))


def _reserve_wait_charge(input: dict[str, Any]) -> str:
    with Saga() as saga:
        hold = reserve(input["item"])
        saga.add(release.call(hold))
        wait_for("Order.confirmed", match={"order": input["order"]})
        return str(charge(input["amount"]))


@workflow("redo-order-waits")
def order_that_waits(input: dict[str, Any]) -> str:
    """Reserve, then wait for the customer's go-ahead before charging."""
    return _reserve_wait_charge(input)


@workflow("redo-order-keeps-holds", compensate_on_cancel=False)
def order_that_keeps_holds(input: dict[str, Any]) -> str:
    """As redo-order-waits, but a cancelled run leaves its hold alone."""
    return _reserve_wait_charge(input)


@workflow("redo-order-in-time", timeout=timedelta(hours=1))
def order_in_time(input: dict[str, Any]) -> str:
    """Waits at most an hour for the go-ahead; then the run times out and releases the hold."""
    return _reserve_wait_charge(input)


@workflow("redo-order-with-fallback")
def order_with_fallback(input: dict[str, Any]) -> str:
    """A first attempt that fails is undone on purpose; the fallback then charges again."""
    try:
        with Saga() as saga:
            hold = reserve("first choice")
            saga.add(release.call(hold))
            charge(input["amount"])
    except Exception:
        notify("fell back")
    reserve_second = reserve("second choice")
    return f"{reserve_second}: {charge(input['amount'])}"


@workflow("redo-order-undo-first")
def order_undo_first(input: dict[str, Any]) -> str:
    """The compensation is registered before its step runs, by the step's name."""
    with Saga() as saga:
        saga.add(release_item.call(input["item"]), undoes="reserve")
        reserve(input["item"])
        return str(charge(input["amount"]))


@workflow("redo-order-of-many")
def order_of_many(input: dict[str, Any]) -> str:
    """Reserves several items side by side; one compensation releases the whole group."""
    with Saga() as saga:
        holds = parallel([reserve.call(item) for item in input["items"]])
        saga.add(release_all.call(holds))
        return str(charge(input["amount"]))


@step(name="release-item")
def release_item(item: str) -> int:
    held = [key for key, held_item in world.holds.items() if held_item == item]
    for key in held:
        del world.holds[key]
    return len(held)


@step(name="release-all")
def release_all(holds: list[str]) -> int:
    for hold in holds:
        world.holds.pop(hold, None)
    return len(holds)


@workflow("redo-parent")
def parent(input: dict[str, Any]) -> str:
    """Orders through a child workflow."""
    notify("parent started")
    return str(run_child("redo-order", input))
