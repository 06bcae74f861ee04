"""Sections of the resilience page that refresh themselves: a poll (htmx) gets the section's
fragment, a plain visit a page of its own."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Capability, capabilities_of
from monitoring.bulkheads import bulkheads_context
from monitoring.caps import caps_context
from monitoring.htmx import HtmxHttpRequest

__all__ = ["bulkheads", "caps"]

View = Callable[[HtmxHttpRequest], HttpResponse]


def _polled(title: str, template: str, context: Callable[[], dict[str, object]]) -> View:
    """The view of one section; its template defines the fragment as `{% partialdef usage %}`."""

    @never_cache
    @require_GET
    def view(request: HtmxHttpRequest) -> HttpResponse:
        if Capability.VIEW not in capabilities_of(request.user):
            raise PermissionDenied("your roles do not allow: view")
        if request.htmx:
            return render(request, f"{template}#usage", context())
        page = {"title": title, "section": template, **context()}
        return render(request, "monitoring/resilience_section.html", page)

    return view


bulkheads = _polled("Bulkheads", "monitoring/resilience_bulkheads.html", bulkheads_context)
caps = _polled("Workflow caps", "monitoring/resilience_caps.html", caps_context)
