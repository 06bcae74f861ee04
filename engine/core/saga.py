"""Compensation: undo completed steps, newest first, when a later one fails."""

from types import TracebackType

from engine.core.definitions import StepCall


class Saga:
    """Collect compensations as steps succeed; on failure run them in reverse and re-raise.

    with Saga() as saga:
        reservation = reserve_inventory(items)
        saga.add(release_inventory.call(reservation))
        charge_payment(order)          # fails → release_inventory runs, then it re-raises
    """

    def __init__(self) -> None:
        self._compensations: list[StepCall] = []

    def add(self, compensation: StepCall) -> None:
        self._compensations.append(compensation)

    def compensate(self) -> None:
        # Each compensation is a journaled step, so a crash mid-way resumes, never repeats.
        while self._compensations:
            self._compensations.pop().run()

    def __enter__(self) -> "Saga":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Only failures compensate: Suspend and Cancelled are BaseException, not Exception.
        if isinstance(error, Exception):
            self.compensate()
