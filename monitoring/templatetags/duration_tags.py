"""Durations in templates, written for people (monitoring.durations)."""

from django import template

from monitoring.durations import format_setting

register = template.Library()


@register.filter
def setting_seconds(seconds: float | None) -> str:
    """A breaker's window or a rate limit's period, given in seconds: `1 ms`, `1 min`."""
    return "" if seconds is None else format_setting(float(seconds))
