"""A step attempt's input as the journal keeps it: StepRecord.detail["input"], bounded by
STEPWISE_STEP_INPUT_BYTES (engine.core.step_input says what a larger one becomes)."""

from typing import Any

from django.conf import settings

from engine.core.journal import Position
from engine.core.step_input import bounded_input

INPUT_KEY = "input"
"""The key in StepRecord.detail; whatever masks input for viewers masks it there."""


def kept_input(value: Any) -> Any:
    return bounded_input(value, int(settings.STEPWISE_STEP_INPUT_BYTES))


def attempt_detail(
    *, undoes: Position | None, traceback: str | None, input: Any
) -> dict[str, Any] | None:
    """StepRecord.detail of an inline step's attempt. A compensation names the step it undid (a
    retry does that step again); the rest is for people, never read by a replay: where a
    failed attempt failed, and the attempt's input."""
    detail: dict[str, Any] = {"undoes": undoes.as_json()} if undoes is not None else {}
    if traceback:
        detail["traceback"] = traceback
    if input is not None:
        detail[INPUT_KEY] = kept_input(input)
    return detail or None
