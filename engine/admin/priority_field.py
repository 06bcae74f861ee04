"""The priority a schedule or a webhook endpoint gives the runs it starts, as a form field."""

from typing import Any

from django import forms

from engine.core.priority import MAX_PRIORITY
from engine.models.inbound import RUN_PRIORITY_HELP


class RunPriorityField(forms.IntegerField):
    """-100..100; left empty it is 0, so a form posted without it (a script written before the
    field existed) still saves."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            initial=0,
            min_value=-MAX_PRIORITY,
            max_value=MAX_PRIORITY,
            help_text=RUN_PRIORITY_HELP,
            **kwargs,
        )

    def clean(self, value: Any) -> int:
        cleaned = super().clean(value)
        return 0 if cleaned is None else int(cleaned)
