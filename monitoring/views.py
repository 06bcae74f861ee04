from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from config.accounts.roles import Capability, capabilities_of, require
from config.htmx import HtmxHttpRequest
from engine.actions import RunStateError, cancel_run, retry_run
from engine.api import DecideIn
from engine.human import TaskError, decide_task
from engine.models import Run, RunStatus, TaskStatus
from monitoring.health import health_report
from monitoring.inbox import PAST_TENSE, inbox_of, task_title
from monitoring.queries import recent_runs
from monitoring.run_detail import run_detail as load_run_detail


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
    detail = load_run_detail(run_id)
    if detail is None:
        return _missing_run(request, run_id)
    context = {
        "detail": detail,
        "run": detail.run,
        "may_cancel": Capability.CANCEL_RUNS in granted and detail.can_be_cancelled,
        "may_retry": Capability.RETRY_RUNS in granted and detail.can_be_retried,
    }
    template = "monitoring/run.html#live" if request.htmx else "monitoring/run.html"
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _control(
    request: HtmxHttpRequest,
    run_id: int,
    capability: Capability,
    action: Callable[[int], Run],
    done: str,
) -> HttpResponse:
    require(request.user, capability)
    if not Run.objects.filter(pk=run_id).exists():
        return _missing_run(request, run_id)
    try:
        action(run_id)
    except RunStateError as refused:
        messages.warning(request, f"Nothing changed: {refused}.")
    else:
        messages.success(request, f"Run #{run_id} {done}.")
    return HttpResponseRedirect(reverse("run-detail", args=[run_id]))


@require_POST
def cancel_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Cancel a run that has not ended (and its children), as POST /api/runs/{id}/cancel does;
    "stop undoing" ends a cancelling run without finishing its compensations."""
    by = request.user.get_username()
    stop_now = request.POST.get("compensate") == "false"
    return _control(
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
    return _control(
        request, run_id, Capability.RETRY_RUNS, retry_run, "retried from where it stopped"
    )


# --- the inbox ---------------------------------------------------------------------------------
def _inbox_response(
    request: HtmxHttpRequest,
    *,
    notice: tuple[str, str] | None = None,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its task list for htmx; a notice rides in the list itself."""
    assert isinstance(request.user, User)
    context = {
        "inbox": inbox_of(request.user, timezone.now()),
        "notice": notice,
        "failed": failed or {},
    }
    template = "monitoring/inbox.html#tasks" if request.htmx else "monitoring/inbox.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@never_cache
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """Open tasks assigned to me or my groups, newest first, and what I decided lately."""
    # The same rule as GET /api/tasks; being an assignee is what allows a decision.
    require(request.user, Capability.VIEW)
    return _inbox_response(request)


@require_POST
def decide_inbox_task(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Decide one of my tasks with an optional comment, as POST /api/tasks/{id}/decide does."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        # The API's own body schema, so both doors take the same comments.
        DecideIn(decision=decision, comment=comment)
        task = decide_task(task_id, request.user, decision, comment)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        refused = TaskError(problem["msg"].lower(), status=422, field=field)
        return _refused(request, task_id, refused, comment)
    except TaskError as refused:
        return _refused(request, task_id, refused, comment)
    text = f"You {PAST_TENSE[decision]} “{task.title}”."
    if task.status == TaskStatus.OPEN:
        text += " It stays open until enough of its assignees have answered."
    if request.htmx:
        return _inbox_response(request, notice=("success", text))
    messages.success(request, text)
    # Post/redirect/get: reloading the page must not send the decision again.
    return HttpResponseRedirect(reverse("inbox"), status=303)


def _refused(
    request: HtmxHttpRequest, task_id: int, refused: TaskError, comment: str
) -> HttpResponse:
    if refused.status == 409:
        text = f"“{task_title(task_id)}” was already decided ({refused.message}); nothing changed."
        if not request.htmx:
            messages.warning(request, text)
            return HttpResponseRedirect(reverse("inbox"), status=303)
        return _inbox_response(request, notice=("warning", text), status=409)
    where = f"{refused.field}: " if refused.field else ""
    # The comment typed so far comes back in its form, so a bad request loses no writing.
    failed = {"task_id": task_id, "field": refused.field, "comment": comment}
    return _inbox_response(
        request,
        notice=("error", f"Nothing changed: {where}{refused.message}."),
        failed=failed,
        status=refused.status,
    )
