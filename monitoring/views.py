from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.htmx import HtmxHttpRequest
from engine.models import RunStatus
from monitoring.health import health_report
from monitoring.queries import recent_runs


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Machine-readable health; 503 only when the database is down and nothing can work."""
    report = health_report()
    status = 200 if report.database["ok"] else 503
    return JsonResponse(report.as_json(), status=status)


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    template = "monitoring/home.html#system" if request.htmx else "monitoring/home.html"
    return render(request, template, {"report": health_report()})


@require_GET
def runs(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    statuses = RunStatus.choices
    if status not in dict(statuses):
        status = None
    return render(
        request,
        "monitoring/runs.html",
        {"runs": recent_runs(status), "status": status, "statuses": statuses},
    )


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/inbox.html")
