"""Template helpers of the inbox pages."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def value_of(values: Any, name: str) -> Any:
    """values[name] for a dict, "" otherwise: what was typed into a form field before."""
    return values.get(name, "") if isinstance(values, dict) else ""
