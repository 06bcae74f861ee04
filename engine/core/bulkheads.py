"""Bulkheads in the authoring API: a named limit on how many steps use a resource at once.

`@step(bulkhead="payments")`, `@step(bulkhead=Bulkhead("payments", max_concurrent=3))`, or
`with bulkhead("payments"):` around step calls in a workflow (steps called one after another:
a `parallel()` step uses its own declaration, as it runs apart). The limit is shared by every
worker and run; the engine's journal backend carries a gate (engine.resilience.bulkheads)
that keeps it in the database. A step that finds the bulkhead full suspends its run (it holds
no worker) and is woken when a slot frees. A backend without a gate (the in-memory tester)
lets every step in at once.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from engine.core.errors import DefinitionError, Suspend
from engine.core.journal import Position

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
MAX_CONCURRENT = 10_000


@dataclass(frozen=True)
class Bulkhead:
    """A named resource; `max_concurrent` None leaves the limit to the admin (or the default)."""

    name: str
    max_concurrent: int | None = None

    def __post_init__(self) -> None:
        check_bulkhead(self.name, self.max_concurrent)


def check_bulkhead(name: Any, max_concurrent: Any, field: str = "bulkhead") -> None:
    """Raise DefinitionError naming the field when a bulkhead is declared wrongly."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DefinitionError(
            f"{field}.name {name!r}: lowercase letters, digits, '.', '_' and '-' (max 100)"
        )
    if max_concurrent is not None and (
        isinstance(max_concurrent, bool)
        or not isinstance(max_concurrent, int)
        or not 1 <= max_concurrent <= MAX_CONCURRENT
    ):
        raise DefinitionError(
            f"{field}.max_concurrent must be a whole number from 1 to {MAX_CONCURRENT}"
        )


def as_bulkhead(value: "str | Bulkhead | None") -> Bulkhead | None:
    """What `bulkhead=` accepts: a name or a Bulkhead."""
    if value is None or isinstance(value, Bulkhead):
        return value
    if isinstance(value, str):
        return Bulkhead(value)
    raise DefinitionError("bulkhead= takes a name or a Bulkhead(name, max_concurrent=...)")


class BulkheadGate(Protocol):
    """Where slots are kept: the engine's database, shared by every worker."""

    def enter(self, run_id: int, position: Position, bulkhead: Bulkhead) -> bool:
        """Take a slot (True), or queue for one and return False: the caller suspends."""
        ...

    def leave(self, run_id: int, position: Position, bulkhead: Bulkhead) -> None:
        """Give the slot back; the next waiter is woken."""
        ...


def gate_of(backend: object) -> BulkheadGate | None:
    """The backend's gate (its `bulkheads` attribute); a backend without one has no limits."""
    gate: BulkheadGate | None = getattr(backend, "bulkheads", None)
    return gate


@contextmanager
def slot_held(
    backend: object, run_id: int, position: Position, declared: "Bulkhead | None", step: str
) -> Iterator[None]:
    """Hold a slot of the step's bulkhead (its own, else the enclosing block's) for one
    attempt; suspends the run while the bulkhead is full. Without a bulkhead: nothing."""
    limit = declared or _scoped.get()
    gate = gate_of(backend) if limit is not None else None
    if limit is None or gate is None:
        yield
        return
    if not gate.enter(run_id, position, limit):
        raise Suspend(f"step {step!r} waits for a slot of bulkhead {limit.name!r}")
    try:
        yield
    finally:
        # Given back whatever the attempt did: a crash before this lets the lease lapse.
        gate.leave(run_id, position, limit)


_scoped: ContextVar[Bulkhead | None] = ContextVar("stepwise_bulkhead", default=None)


@contextmanager
def bulkhead(name: str, max_concurrent: int | None = None) -> Iterator[Bulkhead]:
    """Every step called inside the block uses this bulkhead (unless it names its own).

    Each step takes and gives back its slot on its own: the block holds nothing while the
    workflow waits between steps.
    """
    declared = Bulkhead(name, max_concurrent)
    token = _scoped.set(declared)
    try:
        yield declared
    finally:
        _scoped.reset(token)
