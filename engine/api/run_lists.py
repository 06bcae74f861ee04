"""Engine API: finding runs among many (the runs explorer's filters and cursor pages) and
cancelling or retrying many at once. The rules live in engine.runtime.run_search and
engine.runtime.bulk_runs, shared with the /runs/ page."""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from pydantic import ValidationError

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import first_problem
from accounts.roles import Capability
from engine.api.paging import set_next_page
from engine.api.runs import RunSummaryOut
from engine.runtime.bulk_runs import MAX_BULK_RUNS, bulk_change, ids_matching
from engine.runtime.masking import NO_MASK, guarded_query, listed_masks, shown_summary
from engine.runtime.run_search import LIST_FIELDS, RunQueryError, find_runs, parse_run_query

router = Router(tags=["runs"])


RUN_FILTERS_HELP = (
    "Filters (all optional, combined with AND): workflow (slug), version, status (repeat it or "
    "separate with commas for several), trigger, started_by (username), within (15m, 1h, 24h, "
    "7d, 30d), started_after and started_before (ISO 8601), min_duration (seconds, ended "
    "runs), failed_step (the name of the step a run failed at), match (repeatable: "
    "`input.customer = acme`, `output.total = 12`; the value is JSON when it parses, else "
    "text), q (run id, workflow title or slug, error text). sort: -started (default), started, "
    "-duration, duration. cursor: the `X-Next-Cursor` header of the previous page (also in "
    "`Link: rel=next`); limit: 1 to 500. A bad value answers 422 naming the field."
)


def _query_parameter(name: str, description: str, *, many: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if many:
        schema = {"type": "array", "items": schema}
    place = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**place, "description": description, **({"explode": True} if many else {})}


RUN_FILTER_PARAMETERS = [
    _query_parameter("workflow", "The workflow's slug"),
    _query_parameter("version", "The version runs are pinned to"),
    _query_parameter("status", "Any of these statuses", many=True),
    _query_parameter("trigger", "How runs were started (manual, api, event, …)"),
    _query_parameter("started_by", "Who started them (username)"),
    _query_parameter("within", "Created in the last 15m, 1h, 24h, 7d or 30d"),
    _query_parameter("started_after", "Created at or after (ISO 8601)"),
    _query_parameter("started_before", "Created before (ISO 8601)"),
    _query_parameter("min_duration", "Ran at least this many seconds (ended runs)"),
    _query_parameter("failed_step", "Failed at the step of this name"),
    _query_parameter("match", "`input.customer = acme`: input or output contains", many=True),
    _query_parameter("q", "Run id, workflow title or slug, or error text"),
    _query_parameter("sort", "-started (default), started, -duration or duration"),
    _query_parameter("cursor", "The X-Next-Cursor of the previous page"),
    _query_parameter("limit", "1 to 500 (default 50)"),
]


# What a list answers: every summary field, read in the one query (never input or output).
SUMMARY_FIELDS = (
    *LIST_FIELDS,
    "trigger_ref",
    "idempotency_key",
    "parent_id",
    "scheduled_for",
    "stopped_at",
    "forked_from_id",
    "forked_at_seq",
)


@router.get(
    "/runs",
    response=list[RunSummaryOut],
    openapi_extra={"parameters": RUN_FILTER_PARAMETERS},
    tags=["runs"],
    summary="Find runs: filters, text search, sorts and cursor pages (newest first by default); "
    "summaries without input and output (GET /api/runs/{id} has them)",
    description=RUN_FILTERS_HELP,
)
def list_runs(request: HttpRequest, response: HttpResponse) -> Any:
    require_capability(request, Capability.VIEW)
    query = parse_run_query(request.GET)
    query = guarded_query(query, request.user)
    page = find_runs(query, fields=SUMMARY_FIELDS)
    set_next_page(request, response, page.next_cursor)
    # An error or a progress message may quote sensitive input, as in GET /api/runs/{id}.
    masks = listed_masks(request.user, page.runs)
    return [shown_summary(run, masks.get(run.pk, NO_MASK)) for run in page.runs]


class BulkIn(BodyIn):
    ids: list[int] | None = Field(
        default=None,
        max_length=MAX_BULK_RUNS,
        description=f"The runs to change (at most {MAX_BULK_RUNS})",
    )
    filter: dict[str, Any] | None = Field(
        default=None,
        description="Instead of ids: every run these filters match (as GET /api/runs takes "
        f'them, e.g. {{"status": ["failed"], "workflow": "billing"}}), newest first, '
        f"at most {MAX_BULK_RUNS} per request",
    )


class BulkOutcomeOut(Schema):
    id: int
    workflow: str
    outcome: str = Field(description="done or refused")
    detail: str = Field(description="What happened, or why the run was left as it was")


class BulkOut(Schema):
    results: list[BulkOutcomeOut]
    done: int
    refused: int
    more: bool = Field(
        description=f"The filter matched more than {MAX_BULK_RUNS} runs: send it again for the rest"
    )


def _bulk(request: HttpRequest, action: str, capability: Capability) -> dict[str, Any]:
    require_capability(request, capability)
    try:
        body = BulkIn.model_validate_json(request.body or b"{}")
    except ValidationError as invalid:
        raise RunQueryError(*first_problem(invalid)) from None
    if (body.ids is None) == (body.filter is None):
        raise RunQueryError("ids", "give either ids or filter")
    more = False
    if body.filter is not None:
        query = parse_run_query(body.filter)
        ids, more = ids_matching(query)
    else:
        ids = body.ids or []
    user = request.user if isinstance(request.user, User) else None
    result = bulk_change(action, ids, by=user.get_username() if user else "the API", more=more)
    return {
        "results": [
            {
                "id": outcome.run_id,
                "workflow": outcome.workflow,
                "outcome": "done" if outcome.done else "refused",
                "detail": outcome.detail,
            }
            for outcome in result.outcomes
        ],
        "done": result.done,
        "refused": len(result.outcomes) - result.done,
        "more": result.more,
    }


_BULK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": BulkIn.model_json_schema()}},
    }
}


@router.post(
    "/runs/bulk-cancel",
    response=BulkOut,
    openapi_extra=_BULK_BODY,
    tags=["runs"],
    summary="Cancel many runs (ids, or every match of a filter), each as POST "
    "/api/runs/{id}/cancel would; the result says for each run done or refused, and why",
)
def bulk_cancel(request: HttpRequest) -> dict[str, Any]:
    return _bulk(request, "cancel", Capability.CANCEL_RUNS)


@router.post(
    "/runs/bulk-retry",
    response=BulkOut,
    openapi_extra=_BULK_BODY,
    tags=["runs"],
    summary="Retry many runs (ids, or every match of a filter), each as POST "
    "/api/runs/{id}/retry would; the result says for each run done or refused, and why",
)
def bulk_retry(request: HttpRequest) -> dict[str, Any]:
    return _bulk(request, "retry", Capability.RETRY_RUNS)
