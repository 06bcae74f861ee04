"""Compensation: undo completed steps, newest first, when a later one fails."""

import contextlib
from types import TracebackType

from engine.core.definitions import StepCall
from engine.core.errors import StepFailed


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
        """Run every compensation, newest first; a failing one does not stop the older ones.

        Each is a journaled step, so a crash mid-way resumes without repeating any. The first
        failure is raised once all have run.
        """
        first_failure: StepFailed | None = None
        while self._compensations:
            try:
                self._compensations.pop().run()
            except StepFailed as failure:
                first_failure = first_failure or failure
        if first_failure is not None:
            raise first_failure

    def __enter__(self) -> "Saga":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Only failures compensate: Suspend and Cancelled are BaseException, not Exception.
        # A failing compensation does not hide the failure that started compensating.
        if isinstance(error, Exception):
            with contextlib.suppress(StepFailed):
                self.compensate()
