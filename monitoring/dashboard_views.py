"""/dashboards/ (a page) and /dashboards/data (its JSON): metrics across runs, for viewers."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Capability, require
from monitoring.dashboards import (
    DashboardInputError,
    dashboard,
    known_workflows,
    parse_period,
    parse_workflow,
)


def _load(request: HttpRequest) -> dict[str, Any]:
    require(request.user, Capability.VIEW)
    return dashboard(parse_period(request.GET), parse_workflow(request.GET))


@never_cache
@require_GET
def dashboards(request: HttpRequest) -> HttpResponse:
    require(request.user, Capability.VIEW)
    try:
        data: dict[str, Any] | None = _load(request)
        problem = None
    except DashboardInputError as wrong:
        data, problem = None, wrong
    context = {
        "data": data,
        "problem": problem,
        "workflows": known_workflows(),
        "period": request.GET.get("period") or "day",
        "workflow": (request.GET.get("workflow") or "")[:100],
        "from": (request.GET.get("from") or "")[:40],
        "to": (request.GET.get("to") or "")[:40],
    }
    return render(request, "monitoring/dashboards.html", context, status=422 if problem else 200)


@never_cache
@require_GET
def dashboard_data(request: HttpRequest) -> JsonResponse:
    """The dashboard as JSON; 422 with {field, detail} for a period or workflow it cannot read."""
    try:
        return JsonResponse(_load(request))
    except DashboardInputError as wrong:
        return JsonResponse({"field": wrong.field, "detail": wrong.message}, status=422)
