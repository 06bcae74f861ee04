"""Compensation: undo completed steps, newest first, when a later one fails or the run is
cancelled."""

import contextlib
from types import TracebackType

from engine.core.definitions import StepCall
from engine.core.errors import RunCancelled, StepFailed
from engine.core.journal import Position
from engine.core.running import current_context


class Saga:
    """Collect compensations as steps succeed; on failure run them in reverse and re-raise.

    with Saga() as saga:
        reservation = reserve_inventory(items)
        saga.add(release_inventory.call(reservation))
        charge_payment(order)          # fails → release_inventory runs, then it re-raises

    Each compensation is linked to the step it undoes (by default the step that ran just
    before `add`), so that retrying the run does that step again instead of trusting a result
    whose effect is gone.
    """

    def __init__(self) -> None:
        self._compensations: list[tuple[StepCall, Position | str | None]] = []

    def add(self, compensation: StepCall, *, undoes: str | Position | None = None) -> None:
        """Register `compensation` as the undo of the step that just ran.

        `undoes="reserve-inventory"` names the step instead (its latest run when the saga
        compensates), for a compensation registered before its step runs; a `Position` names
        a journal position (the graph interpreter's way).
        """
        if not isinstance(compensation, StepCall):
            raise TypeError("Saga.add() takes a step call: release.call(reservation)")
        context = current_context()
        target = undoes if undoes is not None else (context.last_position if context else None)
        self._compensations.append((compensation, target))

    def compensate(self) -> None:
        """Run every compensation, newest first; a failing one does not stop the older ones.

        Each is a journaled step, so a crash mid-way resumes without repeating any. The first
        failure is raised once all have run.
        """
        first_failure: StepFailed | None = None
        while self._compensations:
            call, target = self._compensations.pop()
            try:
                call.run_as_compensation(_position(target))
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
        # Failures and cancellation compensate; waiting (Suspend) never does, nor a
        # cancellation that said not to undo.
        # A failing compensation does not hide the failure that started compensating.
        if isinstance(error, Exception) or (isinstance(error, RunCancelled) and error.undo):
            with contextlib.suppress(StepFailed):
                self.compensate()


def _position(target: Position | str | None) -> Position | None:
    if isinstance(target, str):
        context = current_context()
        return context.step_positions.get(target) if context else None
    return target
