"""A step attempt's input as the journal keeps it: StepRecord.detail["input"], bounded by
STEPWISE_STEP_INPUT_BYTES (engine.core.step_input says what a larger one becomes)."""

from typing import Any

from django.conf import settings

from engine.core.step_input import bounded_input

INPUT_KEY = "input"
"""The key in StepRecord.detail; whatever masks input for viewers masks it there."""


def kept_input(value: Any) -> Any:
    return bounded_input(value, int(settings.STEPWISE_STEP_INPUT_BYTES))
