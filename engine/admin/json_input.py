"""JSON typed into an admin form, read as the database will store it.

Django's form field reads Python's JSON, which also takes NaN and Infinity (and 1e999 as
Infinity): neither is JSON, so the database refused the row at save (a 500). A text nested
thousands deep made the decoder recurse until Python gave up (another 500). Both are form errors.
"""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput


class _NotJSON(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not JSON: write a number or null")


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJSON(f"{text} is too large a number for JSON (it would be read as Infinity)")
    return value


def json_text_problem(text: str) -> str | None:
    """Why `text` is not JSON the database stores, or None (plain syntax errors included:
    the field reports those itself)."""
    try:
        json.loads(text, parse_constant=_constant, parse_float=_number)
    except _NotJSON as error:
        return str(error)
    except RecursionError:
        return "nested too deeply to read"
    except ValueError:
        return None
    return None


class JSONInputField(forms.JSONField):
    """Django's JSON form field, refusing NaN, Infinity and nesting too deep to read."""

    def to_python(self, value: Any) -> Any:
        problem = None
        if isinstance(value, str) and not self.disabled and value not in self.empty_values:
            problem = json_text_problem(value)
        if problem is not None:
            raise ValidationError(problem, code="invalid")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # The form shown again with its errors keeps the text as typed.
        if isinstance(data, str) and not self.disabled and json_text_problem(data) is not None:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)


# For a ModelAdmin whose model has JSON fields people type into.
JSON_INPUT_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.JSONField: {"form_class": JSONInputField}
}
