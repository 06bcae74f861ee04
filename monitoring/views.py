from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, capabilities_of, require
from engine.models import Run
from engine.runtime.masking import MASK, NO_MASK, Mask, page_mask_for
from engine.runtime.runs import RunStateError, cancel_run, retry_run
from monitoring.dashboards import overview_summary
from monitoring.health import health_report
from monitoring.htmx import HtmxHttpRequest
from monitoring.run_detail import run_detail as load_run_detail
from monitoring.run_map import masked_map, run_map
from monitoring.run_timeline import RunTimeline, load_folded_timeline

# Above this many rows (a long run that is not fanned out) the chart reads its rows itself
# rather than making the page heavy.
MAX_EMBEDDED_ROWS = 500


def first_answer(timeline: RunTimeline, page_mask: Mask) -> dict[str, Any] | None:
    """What GET /api/runs/<id>/timeline answers (its "***" masks, not the page's words), or
    None when it has more rows than a page should carry."""
    answer = timeline.answer(
        page_mask if page_mask is NO_MASK else replace(page_mask, token=MASK), folded=True
    )
    return answer if len(answer["rows"]) <= MAX_EMBEDDED_ROWS else None


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
    if request.htmx:
        return render(request, "monitoring/home.html#system", {"report": health_report()})
    # Business numbers only for a role that may view runs; health is for every login.
    runs = overview_summary() if Capability.VIEW in capabilities_of(request.user) else None
    return render(request, "monitoring/home.html", {"report": health_report(), "runs": runs})


def _missing_run(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    # A poll that finds the run gone gets a fragment without a trigger, so polling stops.
    template = (
        "monitoring/run_missing.html#missing" if request.htmx else "monitoring/run_missing.html"
    )
    return render(request, template, {"run_id": run_id}, status=404)


@never_cache
@require_GET
def run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """One run: status, progress, input and output, the step journal on a timeline, controls."""
    granted = capabilities_of(request.user)
    if Capability.VIEW not in granted:
        # Inputs and outputs are business data: the same rule as GET /api/runs/{id}.
        raise PermissionDenied("your roles do not allow: view")
    detail = load_run_detail(run_id, lambda run: page_mask_for(request.user, run))
    if detail is None:
        return _missing_run(request, run_id)
    part = ("map" if request.GET.get("part") == "map" else "live") if request.htmx else ""
    context = {
        "detail": detail,
        "run": detail.run,
        "may_cancel": Capability.CANCEL_RUNS in granted and detail.can_be_cancelled,
        "may_retry": Capability.RETRY_RUNS in granted and detail.can_be_retried,
    }
    if part != "live":
        # The verdict and the map are drawn here, and the chart's first answer comes with the
        # page (folded, so small whatever the fan-out); the live part shows none of them.
        timeline = load_folded_timeline(detail.run)
        context["verdict"] = detail.mask.text(timeline.verdict)
        context["map"] = masked_map(run_map(detail.run, timeline.timeline), detail.mask)
        if part == "":
            context["timeline"] = first_answer(timeline, detail.mask)
    template = f"monitoring/run.html#{part}" if part else "monitoring/run.html"
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def run_control(
    request: HtmxHttpRequest,
    run_id: int,
    capability: Capability,
    action: Callable[[int], Run],
    done: str,
    *,
    redirect_status: int = 302,
) -> HttpResponse:
    """Run one control on a run for the page and go back to it (the run page's buttons)."""
    require(request.user, capability)
    if not Run.objects.filter(pk=run_id).exists():
        return _missing_run(request, run_id)
    try:
        action(run_id)
    except RunStateError as refused:
        messages.warning(request, f"Nothing changed: {refused}.")
    else:
        messages.success(request, f"Run #{run_id} {done}.")
    return HttpResponseRedirect(reverse("run-detail", args=[run_id]), status=redirect_status)


@require_POST
def cancel_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Cancel a run that has not ended (and its children), as POST /api/runs/{id}/cancel does;
    "stop undoing" ends a cancelling run without finishing its compensations."""
    by = request.user.get_username()
    stop_now = request.POST.get("compensate") == "false"
    return run_control(
        request,
        run_id,
        Capability.CANCEL_RUNS,
        lambda pk: cancel_run(
            pk,
            reason=f"cancelled by {by} on the run page",
            compensate=False if stop_now else None,
        ),
        "stopped without finishing its undo" if stop_now else "cancelled",
    )


@require_POST
def retry_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Run an ended, unfinished run again from where it stopped, as POST /api/runs/{id}/retry."""
    return run_control(
        request, run_id, Capability.RETRY_RUNS, retry_run, "retried from where it stopped"
    )
