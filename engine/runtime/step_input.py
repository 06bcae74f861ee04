"""What a step attempt worked from, kept beside its result for people (never read by replay):
StepRecord.detail["input"], bounded by STEPWISE_STEP_INPUT_BYTES.

A code step's input is its arguments; a graph node's is its config as rendered from the run's
scope (engine.graph.program.run_node notes it, secrets still as `[secret NAME]` markers). A
larger input keeps the start of its JSON text and says its full size (engine.core.values.cut_json).
"""

from typing import Any

from django.conf import settings

from engine.core.journal import Position
from engine.core.values import cut_json, to_json_value

INPUT_KEY = "input"
"""The key in StepRecord.detail; whatever masks input for viewers masks it there."""


def kept_input(value: Any) -> Any:
    limit = int(settings.STEPWISE_STEP_INPUT_BYTES)
    return cut_json(to_json_value(value), limit, f"the first {limit:,} are kept")


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
