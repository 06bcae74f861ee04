"""The bulkheads' usage on a page of its own, and as the fragment its poll swaps in."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Capability, capabilities_of
from monitoring.bulkheads import bulkheads_context
from monitoring.htmx import HtmxHttpRequest

__all__ = ["bulkheads"]


@never_cache
@require_GET
def bulkheads(request: HtmxHttpRequest) -> HttpResponse:
    if Capability.VIEW not in capabilities_of(request.user):
        raise PermissionDenied("your roles do not allow: view")
    if request.htmx:
        return render(request, "monitoring/resilience_bulkheads.html#usage", bulkheads_context())
    return render(request, "monitoring/bulkheads.html", bulkheads_context())
