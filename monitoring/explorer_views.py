"""The runs explorer's pages: the filtered list, bulk cancel and retry, saved views.

The same rules as the API: anyone who may view lists runs; cancelling and retrying need the
CANCEL_RUNS / RETRY_RUNS capabilities, and each run still goes through its own checks.
"""

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, capabilities_of, require
from engine.runtime.bulk_runs import MAX_BULK_RUNS, BulkResult, bulk_change, ids_matching
from engine.runtime.masking import guarded_query
from engine.runtime.run_search import RunQuery, RunQueryError, parse_run_query
from monitoring.explorer import explorer_of
from monitoring.htmx import HtmxHttpRequest
from monitoring.models import SavedRunView
from monitoring.saved_views import forget_view, keep_view, refuse_view

ACTION_CAPABILITY = {"cancel": Capability.CANCEL_RUNS, "retry": Capability.RETRY_RUNS}
ACTION_WORDS = {"cancel": "Cancel", "retry": "Retry"}


def _explorer_response(
    request: HtmxHttpRequest,
    *,
    query: RunQuery | None = None,
    notice: tuple[str, str] | None = None,
    confirm: dict[str, object] | None = None,
    result: BulkResult | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its results for htmx; notices ride in the results."""
    assert isinstance(request.user, User)
    if query is None:
        try:
            query = parse_run_query(request.GET)
            query = guarded_query(query, request.user)
        except RunQueryError as refused:
            query, notice, status = RunQuery(), ("error", f"Showing all runs: {refused}."), 422
    granted = capabilities_of(request.user)
    context = {
        "explorer": explorer_of(request.user, query, timezone.now()),
        "notice": notice,
        "confirm": confirm,
        "result": result,
        "may_cancel": Capability.CANCEL_RUNS in granted,
        "may_retry": Capability.RETRY_RUNS in granted,
        "max_bulk": MAX_BULK_RUNS,
    }
    template = "monitoring/runs.html#results" if request.htmx else "monitoring/runs.html"
    response = render(request, template, context, status=status)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@never_cache
@require_GET
def runs(request: HtmxHttpRequest) -> HttpResponse:
    """Runs matching the filters in the URL, a keyset page at a time."""
    require(request.user, Capability.VIEW)
    return _explorer_response(request)


@require_POST
def bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Cancel or retry the selected runs, or every run the filters match (up to MAX_BULK_RUNS).

    The first post asks for confirmation and changes nothing; the confirmed one acts, and the
    page says for each run what happened."""
    action = request.POST.get("action", "")
    if action not in ACTION_CAPABILITY:
        require(request.user, Capability.VIEW)
        return _explorer_response(
            request, notice=("error", "Nothing changed: action: cancel or retry."), status=422
        )
    require(request.user, ACTION_CAPABILITY[action])
    assert isinstance(request.user, User)
    try:
        query = parse_run_query(request.POST)
    except RunQueryError as refused:
        return _explorer_response(
            request, notice=("error", f"Nothing changed: {refused}."), status=422
        )
    every = request.POST.get("scope") == "all"
    more = False
    if every:
        ids, more = ids_matching(query)
    else:
        try:
            ids = list(dict.fromkeys(int(value) for value in request.POST.getlist("run")))
        except ValueError:
            ids = []
        if not ids or len(ids) > MAX_BULK_RUNS:
            text = f"Nothing changed: run: select between 1 and {MAX_BULK_RUNS} runs."
            return _explorer_response(request, query=query, notice=("error", text), status=422)
    if not ids:
        return _explorer_response(
            request, query=query, notice=("warning", "Nothing changed: no run matches.")
        )
    if request.POST.get("confirmed") != "yes":
        confirm = {
            "action": action,
            "verb": ACTION_WORDS[action],
            "ids": ids,
            "count": len(ids),
            "every": every,
            "more": more,
        }
        return _explorer_response(request, query=query, confirm=confirm)
    result = bulk_change(action, ids, by=request.user.get_username(), more=more)
    past = "cancelled" if action == "cancel" else "retried"
    text = f"{result.done} of {len(result.outcomes)} runs {past}."
    if more:
        text += f" More than {MAX_BULK_RUNS} matched: do it again for the rest."
    return _explorer_response(
        request, query=query, notice=("success" if result.done else "warning", text), result=result
    )


@require_POST
def save_view(request: HtmxHttpRequest) -> HttpResponse:
    """Keep the current filters under a name; the same name again replaces them."""
    require(request.user, Capability.VIEW)
    try:
        query = parse_run_query(request.POST)
    except RunQueryError as refused:
        return refuse_view(request, "runs", str(refused))
    return keep_view(request, SavedRunView, "runs", query.as_params())


@require_POST
def delete_view(request: HtmxHttpRequest, view_id: int) -> HttpResponse:
    require(request.user, Capability.VIEW)
    return forget_view(request, SavedRunView, "runs", view_id)
