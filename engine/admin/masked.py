"""Run data in the admin as the person reading it may see it (engine.runtime.masking).

Admin display methods receive the object, not the request, so the change view's object
carries the reader's mask (`MASK_ATTRIBUTE`), set where the request is known; an object
without one is shown masked, never in clear.
"""

import json
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from engine.models import Run, StepRecord
from engine.runtime.masking import Mask, page_mask_for, run_mask

MASK_ATTRIBUTE = "_stepwise_mask"


def carry_mask(request: HttpRequest, target: Run | StepRecord, run: Run) -> None:
    setattr(target, MASK_ATTRIBUTE, page_mask_for(request.user, run))


def carry_listed_mask(target: StepRecord, mask: Mask) -> None:
    """A list's row carries the mask the list made for its run (engine.runtime.masking)."""
    setattr(target, MASK_ATTRIBUTE, mask)


def mask_of(target: Run | StepRecord, run: Run) -> Mask:
    found = getattr(target, MASK_ATTRIBUTE, None)
    return found if isinstance(found, Mask) else run_mask(run)


def as_json(value: Any) -> SafeString:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


def run_field(run: Run, column: str) -> SafeString:
    """The run's input (masked by path) or another column (masked by value)."""
    mask = mask_of(run, run)
    value = getattr(run, column)
    return as_json(mask.input(value) if column == "input" else mask.value(value))


def step_field(record: StepRecord, column: str, mask: Mask | None = None) -> SafeString:
    """A journal row's column as `mask` (else the row's own, else the run's) shows it."""
    shown = mask or mask_of(record, record.run)
    return as_json(shown.value(getattr(record, column)))


def step_name(record: StepRecord, mask: Mask | None = None) -> str:
    """A journal row's name, which a workflow may have made from a sensitive value."""
    return (mask or mask_of(record, record.run)).text(record.name)
