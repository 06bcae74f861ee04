"""Small pieces the engine's admin pages share: times in a schedule's zone, links to runs."""

from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from engine.core.cron import zone_of
from engine.core.errors import DefinitionError
from engine.models import (
    Run,
    Schedule,
)


def local_time(schedule: Schedule, moment: datetime | None) -> str:
    """A moment in the schedule's own time zone, as its owner reads it."""
    if moment is None:
        return "-"
    try:
        zone = zone_of(schedule.timezone)
    except DefinitionError:
        return f"{moment:%Y-%m-%d %H:%M %Z}"
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"


def run_change_link(run: Run | None) -> SafeString | str:
    """A link to the run's admin page, with its status."""
    if run is None:
        return "-"
    url = reverse("admin:engine_run_change", args=[run.pk])
    return format_html('<a href="{}">run {}</a> ({})', url, run.pk, run.get_status_display())
