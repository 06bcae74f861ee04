"""The page a one-click decision link from a task e-mail opens: a GET only shows the task and
asks to confirm, since mail scanners and link previews open links too; the POST decides, through
engine.human.links."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability, require
from engine.human import TaskError
from engine.human.links import access_link, check_decidable, decide_by_link
from engine.human.tokens import LinkClaim, LinkRefused
from engine.models import HumanTask, TaskStatus
from monitoring.inbox import BUTTON_LABELS, PAST_TENSE, details_of


@never_cache
@require_http_methods(["GET", "POST"])
def decision_link(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm (GET) or take (POST) the decision a link from a task e-mail proposes."""
    # The same rule as the inbox: being the task's assignee is what allows the decision.
    require(request.user, Capability.VIEW)
    user = request.user
    assert isinstance(user, User)
    try:
        claim, task = access_link(token, user)
    except LinkRefused as refused:
        return _page(request, problem=refused.message, status=refused.status)
    if request.method == "GET":
        try:
            check_decidable(task, user)
        except TaskError as refused:
            return _page(request, claim, task, problem=refused.message, status=refused.status)
        return _page(request, claim, task, confirm=True)
    comment = request.POST.get("comment", "")
    try:
        task = decide_by_link(token, user, comment)
    except LinkRefused as refused:
        return _page(request, problem=refused.message, status=refused.status)
    except TaskError as refused:
        # A comment that is too long may be shortened and sent again; no other refusal changes
        # by trying again.
        return _page(
            request,
            claim,
            task,
            problem=refused.message,
            status=refused.status,
            confirm=refused.field == "comment",
            comment=comment,
        )
    text = f"You {PAST_TENSE[claim.decision]} “{task.title}”."
    if task.status == TaskStatus.OPEN:
        text += " It stays open until enough of its assignees have answered."
    messages.success(request, text)
    # Post/redirect/get: reloading the page must not send the decision again.
    return HttpResponseRedirect(reverse("inbox"), status=303)


def _page(
    request: HttpRequest,
    claim: LinkClaim | None = None,
    task: HumanTask | None = None,
    *,
    problem: str = "",
    status: int = 200,
    confirm: bool = False,
    comment: str = "",
) -> HttpResponse:
    """The task and what the link proposes; the problem, if any; the form when `confirm`."""
    context: dict[str, Any] = {
        "task": task,
        "details": details_of(task.data) if task else (),
        "decision": claim.decision if claim else "",
        "label": BUTTON_LABELS.get(claim.decision, "") if claim else "",
        "problem": problem,
        "confirm": confirm,
        "comment": comment,
    }
    return render(request, "monitoring/decision_link.html", context, status=status)
