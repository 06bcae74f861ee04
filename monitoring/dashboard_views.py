"""/dashboards/ (a page) and /dashboards/data (its JSON): metrics across runs, for viewers;
/metrics, the same for Prometheus."""

import hmac
from ipaddress import ip_address
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from accounts.api_refusals import refusal
from accounts.roles import Capability, require
from monitoring.dashboards import (
    DashboardInputError,
    dashboard,
    known_workflows,
    parse_period,
    parse_workflow,
)
from monitoring.prometheus import registry


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
    """The dashboard as JSON; a 422 naming the field for a period or workflow it cannot read."""
    try:
        return JsonResponse(_load(request))
    except DashboardInputError as wrong:
        return JsonResponse(refusal(wrong.field, wrong.message), status=422)


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the scraper may read /metrics: the bearer token, or an allowed address."""
    token = settings.STEPWISE_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    offered = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return None
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        address = None
    if address is not None and any(address in net for net in settings.STEPWISE_METRICS_NETWORKS):
        return None
    if token:
        refused = HttpResponse("a valid bearer token is required\n", status=401)
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    return HttpResponse(
        "/metrics is refused: set STEPWISE_METRICS_TOKEN or STEPWISE_METRICS_ALLOW\n", status=403
    )


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a scraper with the token or from an allowed address."""
    refused = metrics_refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
