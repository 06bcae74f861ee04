"""The inbox's pages: my tasks, deciding (for myself or for whoever delegated to me), claiming
a group's task, and my out-of-office rules. The same rules as the tasks API, in engine.human."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from accounts.roles import Capability, require
from engine.api.tasks import DecideIn
from engine.human import (
    TaskError,
    claim_task,
    decide_task,
    end_delegation,
    set_delegation,
    unclaim_task,
)
from engine.human.queries import TaskQuery, parse_query
from engine.human.visibility import task_seen_by
from engine.models import Delegation, HumanTask, SavedView, TaskStatus
from monitoring.htmx import HtmxHttpRequest
from monitoring.inbox import PAST_TENSE, inbox_of, posted_form, task_title
from monitoring.saved_views import forget_view, keep_view, refuse_view
from monitoring.task_page import may_see, task_page

MAX_BULK = 100


def _inbox_response(
    request: HtmxHttpRequest,
    *,
    notice: tuple[str, str] | None = None,
    failed: dict[str, Any] | None = None,
    status: int = 200,
    results: list[tuple[str, str, str]] | None = None,
) -> HttpResponse:
    """The whole page, or only its task list for htmx; the answer to a post (its notice and
    each task's outcome) rides beside the list, out of band."""
    assert isinstance(request.user, User)
    try:
        query = parse_query(request.GET)
    except TaskError as refused:
        query, notice, status = TaskQuery(), ("error", f"{refused.field}: {refused.message}"), 422
    context = {
        "inbox": inbox_of(request.user, timezone.now(), query),
        "notice": notice,
        "failed": failed or {},
        "results": results or [],
        # A refresh (GET) leaves the last answer shown; a post replaces it, even with nothing.
        "answer_out_of_band": bool(request.htmx)
        and (request.method == "POST" or notice is not None),
    }
    template = "monitoring/inbox.html#tasks" if request.htmx else "monitoring/inbox.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request: HtmxHttpRequest, text: str) -> HttpResponse:
    if request.htmx:
        return _inbox_response(request, notice=("success", text))
    messages.success(request, text)
    # Post/redirect/get: reloading the page must not send the action again.
    return HttpResponseRedirect(reverse("inbox"), status=303)


@never_cache
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """Open tasks assigned to me, my groups or people who delegated to me, newest first, and
    what I decided lately."""
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
    on_behalf_of = request.POST.get("on_behalf_of") or None
    form = posted_form(request.POST)
    try:
        # The API's own body schema, so both doors take the same comments.
        DecideIn(decision=decision, comment=comment, on_behalf_of=on_behalf_of, form=form)
        task = decide_task(task_id, request.user, decision, comment, on_behalf_of, form)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        refused = TaskError(problem["msg"].lower(), status=422, field=field)
        return _refused(request, task_id, refused, comment)
    except TaskError as refused:
        return _refused(request, task_id, refused, comment, form)
    text = f"You {PAST_TENSE[decision]} “{task.title}”"
    text += f" for {on_behalf_of}." if on_behalf_of else "."
    if task.status == TaskStatus.OPEN:
        text += " It stays open until enough of its assignees have answered."
    return _done(request, text)


@require_POST
def claim_inbox_task(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Take a group's task for myself, as POST /api/tasks/{id}/claim does."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    try:
        task = claim_task(task_id, request.user)
    except TaskError as refused:
        return _refused(request, task_id, refused, "")
    return _done(request, f"“{task.title}” is yours now; the rest of the group no longer sees it.")


@require_POST
def unclaim_inbox_task(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Give a task I claimed back to its group."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    try:
        task = unclaim_task(task_id, request.user)
    except TaskError as refused:
        return _refused(request, task_id, refused, "")
    return _done(request, f"“{task.title}” is back in the group's queue.")


def _refused(
    request: HtmxHttpRequest,
    task_id: int,
    refused: TaskError,
    comment: str,
    form: dict[str, str] | None = None,
) -> HttpResponse:
    if refused.status == 409:
        title = task_title(task_id)
        decided = "already" in refused.message and "claimed" not in refused.message
        text = (
            f"“{title}” was already decided ({refused.message}); nothing changed."
            if decided
            else f"Nothing changed on “{title}”: {refused.message}."
        )
        if not request.htmx:
            messages.warning(request, text)
            return HttpResponseRedirect(reverse("inbox"), status=303)
        return _inbox_response(request, notice=("warning", text), status=409)
    where = f"{refused.field}: " if refused.field else ""
    # The comment typed so far comes back in its form, so a bad request loses no writing.
    failed = {"task_id": task_id, "field": refused.field, "comment": comment, "form": form or {}}
    return _inbox_response(
        request,
        notice=("error", f"Nothing changed: {where}{refused.message}."),
        failed=failed,
        status=refused.status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def delegation(request: HtmxHttpRequest) -> HttpResponse:
    """My out-of-office rules: who decides my tasks, from when to when, for which workflows."""
    require(request.user, Capability.VIEW)
    user = request.user
    assert isinstance(user, User)
    error: TaskError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("end"):
                end_delegation(user, int(request.POST["end"]))
                messages.success(request, "The rule ended.")
            else:
                workflows = [
                    slug.strip()
                    for slug in request.POST.get("workflows", "").split(",")
                    if slug.strip()
                ]
                set_delegation(
                    user,
                    request.POST.get("delegate", "").strip(),
                    request.POST.get("starts_on", ""),
                    request.POST.get("ends_on", ""),
                    workflows,
                )
                messages.success(request, "Saved: your tasks go to your delegate on those days.")
            return HttpResponseRedirect(reverse("delegation"), status=303)
        except (TaskError, ValueError) as refused:
            error = (
                refused if isinstance(refused, TaskError) else TaskError("no such rule", status=404)
            )
    context = {
        "rules": Delegation.objects.filter(user=user)
        .select_related("delegate")
        .order_by("starts_on", "pk"),
        "delegated_to_me": Delegation.objects.filter(
            delegate=user, ends_on__gte=timezone.localdate()
        ).select_related("user"),
        "candidates": User.objects.filter(is_active=True)
        .exclude(pk=user.pk)
        .order_by("username")
        .values_list("username", flat=True)[:500],
        "error": error,
        "posted": request.POST if error else {},
        "today": timezone.localdate(),
    }
    return render(
        request, "monitoring/delegation.html", context, status=error.status if error else 200
    )


@never_cache
@require_GET
def task_detail(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """One task with everything needed to decide it well."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    task = (
        HumanTask.objects.select_related("run", "claimed_by", "requester", "machine_instance")
        .filter(pk=task_id)
        .first()
    )
    if task is None or not may_see(task, request.user):
        return render(request, "monitoring/task_missing.html", {"task_id": task_id}, status=404)
    context = {"page": task_page(task, request.user, timezone.now())}
    return render(request, "monitoring/task.html", context)


@require_POST
def bulk_decide(request: HtmxHttpRequest) -> HttpResponse:
    """Decide the selected tasks alike; each goes through the same rules as one decision, and
    the page says for each what happened."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        ids = sorted({int(value) for value in request.POST.getlist("task")})
    except ValueError:
        return _inbox_response(
            request,
            notice=("error", "Nothing changed: task: pick tasks from the list."),
            status=422,
        )
    if not ids or len(ids) > MAX_BULK:
        text = f"Nothing changed: task: pick between 1 and {MAX_BULK} tasks."
        return _inbox_response(request, notice=("error", text), status=422)
    results: list[tuple[str, str, str]] = []
    for task_id in ids:
        seen = task_seen_by(task_id, request.user)
        try:
            decide_task(task_id, request.user, decision, comment)
        except TaskError as refused:
            # A task that is not theirs is named by its number alone, never its title.
            title = task_title(task_id) if seen else f"task {task_id}"
            where = f"{refused.field}: " if refused.field else ""
            results.append((title, "refused", f"{where}{refused.message}"))
        else:
            results.append((task_title(task_id), "done", PAST_TENSE.get(decision, decision)))
    done = sum(1 for _, outcome, _ in results if outcome == "done")
    text = f"{done} of {len(results)} tasks {PAST_TENSE.get(decision, decision)}."
    return _inbox_response(
        request, notice=("success" if done else "warning", text), results=results
    )


@require_POST
def save_view(request: HtmxHttpRequest) -> HttpResponse:
    """Keep the current filters under a name; the same name again replaces them."""
    require(request.user, Capability.VIEW)
    try:
        query = parse_query(request.POST)
    except TaskError as refused:
        return refuse_view(request, "inbox", f"{refused.field}: {refused.message}")
    return keep_view(request, SavedView, "inbox", query.as_params())


@require_POST
def delete_view(request: HtmxHttpRequest, view_id: int) -> HttpResponse:
    require(request.user, Capability.VIEW)
    return forget_view(request, SavedView, "inbox", view_id)


@never_cache
@require_GET
def open_count(request: HtmxHttpRequest) -> HttpResponse:
    """The nav's count of open tasks, refreshed live."""
    return render(request, "base.html#inbox-count", {})
