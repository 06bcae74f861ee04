"""The resilience page: breakers and rate limits, live; operators reset a breaker from it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, capabilities_of, require
from engine.core.resilience import NAME_PATTERN
from engine.resilience.actions import do_reset_breaker
from engine.resilience.breakers import breaker_status
from monitoring.bulkheads import bulkheads_context
from monitoring.caps import caps_context
from monitoring.htmx import HtmxHttpRequest
from monitoring.resilience import breaker_rows, limiter_rows


@require_GET
def resilience(request: HtmxHttpRequest) -> HttpResponse:
    """Each breaker's state and each rate limit's usage; the live part alone for htmx."""
    granted = capabilities_of(request.user)
    if Capability.VIEW not in granted:
        raise PermissionDenied("your roles do not allow: view")
    context = {
        "breakers": breaker_rows(),
        "limiters": limiter_rows(),
        "may_reset": Capability.RESET_BREAKERS in granted,
        **bulkheads_context(),
        **caps_context(),
    }
    template = "monitoring/resilience.html#live" if request.htmx else "monitoring/resilience.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def reset_breaker(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """Close a breaker now, as POST /api/resilience/breakers/{name}/reset (operators)."""
    require(request.user, Capability.RESET_BREAKERS)
    if not NAME_PATTERN.match(name) or breaker_status(name) is None:
        messages.error(request, f"No circuit breaker is called {name!r}.")
        return redirect("resilience")
    do_reset_breaker(name, request.user)
    messages.success(request, f"Circuit breaker {name} is closed again.")
    return redirect("resilience")
