"""Engine API: runs, events and diagnostics."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ValidationError

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError, RefusalOut, first_problem
from accounts.roles import Capability
from engine.api.errors import found_or_404
from engine.api.paging import cursor_key, page_limit, set_next_page
from engine.core.cursors import encode_cursor
from engine.inbound.events import EventInputError, deliver_event, event_history
from engine.models import Run, StepRecord, WorkerProbe
from engine.resilience.priorities import MAX_PRIORITY
from engine.runtime.inputs import first_input_problem
from engine.runtime.masking import mask_for, shown_run, shown_step
from engine.runtime.probes import request_worker_probe
from engine.runtime.resolving import UnknownWorkflow, resolve
from engine.runtime.runs import (
    RunStateError,
    cancel_run,
    pause_run,
    resume_run,
    retry_run,
    start_run,
)
from engine.runtime.step_logs import lines_of

router = Router(tags=["system"])

# GET /api/runs/{id} answers the journal's first rows; /journal pages through the rest.
JOURNAL_PAGE = 100
MAX_JOURNAL_PAGE = 500
JOURNAL = "journal"
"""The scope of a journal's cursors (engine/core/cursors.py): the last row's id."""


class WorkerProbeOut(Schema):
    id: int
    requested_at: datetime
    answered_at: datetime | None
    answered_by: str
    round_trip_ms: float | None


@router.post(
    "/system/worker-probes",
    response={202: WorkerProbeOut},
    summary="Send a probe through the broker; a worker answers it in the database",
)
def create_worker_probe(request: HttpRequest) -> Status[WorkerProbe]:
    require_capability(request, Capability.RUN_DIAGNOSTICS)
    user = request.user if isinstance(request.user, User) else None
    return Status(202, request_worker_probe(user))


@router.get(
    "/system/worker-probes/{probe_id}",
    response=WorkerProbeOut,
    summary="Whether a worker has answered the probe, and how fast",
)
def get_worker_probe(request: HttpRequest, probe_id: int) -> WorkerProbe:
    require_capability(request, Capability.VIEW)
    return found_or_404(WorkerProbe, "probe_id", "worker probe", pk=probe_id)


# --- runs and events ------------------------------------------------------------------------
class StepOut(Schema):
    seq: int
    branch: int
    attempt: int
    kind: str
    name: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    output: Any = None
    error: dict[str, Any] | None = None
    superseded: bool = Field(
        description="Set aside by a retry: kept for the record, no longer replayed"
    )
    undoes: dict[str, int] | None = Field(
        default=None,
        description="For a compensation: the position ({seq, branch}) of the step it undid; a "
        "retry does that step again",
    )
    logs: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What log() wrote during this attempt: {at, level, message}, at most 200 "
        "lines or 16,000 bytes, then a line with `truncated` (how many were left out)",
    )

    @staticmethod
    def resolve_logs(record: StepRecord) -> list[dict[str, Any]]:
        return lines_of(record)

    @staticmethod
    def resolve_undoes(record: StepRecord) -> dict[str, int] | None:
        detail = record.detail if isinstance(record.detail, dict) else {}
        undoes = detail.get("undoes")
        return undoes if isinstance(undoes, dict) else None

    @staticmethod
    def resolve_duration_ms(record: StepRecord) -> float | None:
        if record.finished_at is None:
            return None
        return (record.finished_at - record.started_at).total_seconds() * 1000


class RunSummaryOut(Schema):
    """A run in a list: everything but its input and output, which can be large and hold
    personal data (read one run for them)."""

    id: int
    workflow: str
    kind: str
    version: str
    status: str
    error: dict[str, Any] | None = None
    trigger: str
    trigger_ref: str
    idempotency_key: str | None
    parent_id: int | None
    created_at: datetime
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    progress: dict[str, Any] | None = None
    is_test: bool = Field(
        default=False,
        description="A designer's test run of an unpublished draft (version 'draft rev N')",
    )
    stopped_at: int | None = Field(
        default=None,
        description="The journal position where a failed, cancelled or timed-out run stopped: "
        "where a retry resumes it",
    )
    forked_from_id: int | None = Field(
        default=None, description="The run this one re-runs or forks (POST …/rerun, …/fork)"
    )
    forked_at_seq: int | None = Field(
        default=None,
        description="For a fork: the position it executed from (the journal before it is the "
        "original's); null for a re-run",
    )


class RunOut(RunSummaryOut):
    input: Any = None
    output: Any = None
    priority: int = 0
    admission: str = Field(
        default="", description="held while its workflow's cap queues it, then admitted"
    )


class RunDetailOut(RunOut):
    steps: list[StepOut] = Field(
        description=f"The journal in the order it was written: its first {JOURNAL_PAGE} rows "
        "(`steps_limit`, at most 500); GET /api/runs/{id}/journal?cursor= has the rest"
    )
    steps_next_cursor: str | None = Field(
        default=None,
        description="Set when the journal has more rows than `steps`: the cursor of "
        "GET /api/runs/{id}/journal (also in the X-Next-Cursor and Link: rel=next headers)",
    )


@dataclass(frozen=True)
class RunWithJournal:
    """A run as one caller reads it (engine.runtime.masking) with its journal's first page."""

    run: Run
    steps: list[StepRecord]
    steps_next_cursor: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.run, name)


class StartRunIn(BodyIn):
    input: Any = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    start_at: datetime | None = Field(
        default=None,
        strict=False,
        description="Start later: an ISO 8601 time with its offset, in the future. The run "
        "waits as scheduled (durably) and can be cancelled until then.",
    )
    priority: int = Field(
        default=0,
        ge=-MAX_PRIORITY,
        le=MAX_PRIORITY,
        description="Higher first: orders the run among those its workflow's cap holds back, "
        "and its steps among those waiting at a bulkhead.",
    )


class EventIn(BodyIn):
    type: str = Field(min_length=1, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, min_length=1, max_length=200)


class EventOut(Schema):
    id: str
    type: str
    created: bool
    woken_runs: list[int]
    started_runs: list[int]


class EventRunOut(Schema):
    id: int
    workflow: str
    status: str


class EventRecordOut(Schema):
    id: str
    type: str
    source: str
    depth: int = Field(
        description="Runs between this event and an outside one (0: from outside); events "
        "deeper than STEPWISE_EVENT_CHAIN_LIMIT start no workflows"
    )
    payload: dict[str, Any]
    received_at: datetime
    started_runs: list[EventRunOut]
    woken_runs: list[int]


@router.post(
    "/workflows/{slug}/runs",
    response={200: RunDetailOut, 201: RunDetailOut, 404: RefusalOut},
    tags=["runs"],
    summary="Start a run (201); with an idempotency key used before, the existing run (200)",
)
def start_workflow_run(request: HttpRequest, slug: str, body: StartRunIn) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    user = request.user if isinstance(request.user, User) else None
    existed = (
        bool(body.idempotency_key)
        and Run.objects.filter(workflow=slug, idempotency_key=body.idempotency_key).exists()
    )
    try:
        schema = resolve(slug).definition.input_schema
    except UnknownWorkflow as missing:
        raise FieldError(404, "slug", f"no workflow called {missing.slug!r}") from None
    if schema is not None:
        problem = first_input_problem(schema, body.input)
        if problem is not None:
            raise FieldError(422, problem.field, problem.message)
    if body.start_at is not None:
        if body.start_at.tzinfo is None or body.start_at.utcoffset() is None:
            raise FieldError(422, "start_at", "give the time zone offset, e.g. 2030-01-01T09:00Z")
        if body.start_at <= timezone.now():
            raise FieldError(422, "start_at", "must be in the future")
    try:
        run = start_run(
            slug,
            body.input,
            trigger="api",
            idempotency_key=body.idempotency_key,
            created_by=user,
            start_at=body.start_at,
            priority=body.priority,
        )
    except UnknownWorkflow as missing:
        raise FieldError(404, "slug", f"no workflow called {missing.slug!r}") from None
    except TypeError as not_json:
        raise FieldError(422, "input", str(not_json)) from None
    return Status(200 if existed else 201, run_shown_to(request, run))


@router.get(
    "/runs/{run_id}",
    response=RunDetailOut,
    tags=["runs"],
    summary="A run with its journal: every attempt of every step, with timings",
)
def get_run(
    request: HttpRequest, response: HttpResponse, run_id: int, steps_limit: int | None = None
) -> Any:
    require_capability(request, Capability.VIEW)
    limit = page_limit(steps_limit, default=JOURNAL_PAGE, most=MAX_JOURNAL_PAGE, name="steps_limit")
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    shown = run_shown_to(request, run, limit=limit)
    journal = f"{request.path.rstrip('/')}/journal"
    set_next_page(request, response, shown.steps_next_cursor or "", path=journal, limit=limit)
    return shown


def _journal_rows(run: Run, after: int, limit: int) -> tuple[list[StepRecord], str]:
    """Up to `limit` journal rows after row id `after`, and the cursor of the next ones."""
    rows = list(run.steps.filter(pk__gt=after).order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(JOURNAL, [rows[-1].pk]) if more else ""


def run_shown_to(request: HttpRequest, run: Run, *, limit: int = JOURNAL_PAGE) -> RunWithJournal:
    """The run as this caller may read it (sensitive fields masked unless their roles allow),
    with the first page of its journal."""
    mask = mask_for(request.user, run)
    rows, following = _journal_rows(run, 0, limit)
    steps = [shown_step(row, mask) for row in rows]
    return RunWithJournal(shown_run(run, mask), steps, following or None)


@router.get(
    "/runs/{run_id}/journal",
    response=list[StepOut],
    tags=["runs"],
    summary="A run's journal in the order it was written, a page at a time: cursor from the "
    "X-Next-Cursor header (or steps_next_cursor of GET /api/runs/{id}), limit 1 to 500",
)
def get_run_journal(
    request: HttpRequest,
    response: HttpResponse,
    run_id: int,
    cursor: str | None = None,
    limit: int | None = None,
) -> list[StepRecord]:
    require_capability(request, Capability.VIEW)
    size = page_limit(limit, default=JOURNAL_PAGE, most=MAX_JOURNAL_PAGE)
    after = cursor_key(JOURNAL, cursor, [int])[0] if cursor else 0
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    rows, following = _journal_rows(run, after, size)
    set_next_page(request, response, following)
    mask = mask_for(request.user, run)
    return [shown_step(row, mask) for row in rows]


def _control(
    request: HttpRequest, run_id: int, capability: Capability, action: Callable[[int], Run]
) -> Any:
    require_capability(request, capability)
    found_or_404(Run, "run_id", "run", pk=run_id)
    try:
        action(run_id)
    except RunStateError as refused:
        raise FieldError(409, "run_id", str(refused)) from None
    return run_shown_to(request, Run.objects.get(pk=run_id))


class CancelIn(BodyIn):
    reason: str = Field(
        default="cancelled", min_length=1, max_length=500, description="Kept in the run's error"
    )
    compensate: bool | None = Field(
        default=None,
        description="Undo the run's completed steps first (its compensations). Default: as "
        "the workflow says (yes unless it opted out). false on a cancelling run stops its "
        "undoing at once.",
    )


def _cancel_options(request: HttpRequest) -> CancelIn:
    """The optional JSON body; a POST without one (or a form post) cancels as the workflow says."""
    if not request.body or request.content_type != "application/json":
        return CancelIn()
    try:
        return CancelIn.model_validate_json(request.body)
    except ValidationError as invalid:
        raise FieldError(422, *first_problem(invalid)) from None


@router.post(
    "/runs/{run_id}/cancel",
    response=RunDetailOut,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CancelIn.model_json_schema()}},
        }
    },
    tags=["runs"],
    summary="Cancel a run that has not ended, and its children (409 if it has); it undoes "
    "its completed steps first, as `cancelling`",
)
def cancel(request: HttpRequest, run_id: int) -> Any:
    wanted = _cancel_options(request)

    def cancel_as_asked(run_id: int) -> Run:
        return cancel_run(run_id, reason=wanted.reason, compensate=wanted.compensate)

    return _control(request, run_id, Capability.CANCEL_RUNS, cancel_as_asked)


@router.post(
    "/runs/{run_id}/retry",
    response=RunDetailOut,
    tags=["runs"],
    summary="Run a failed, cancelled or timed-out run again from where it stopped; steps a "
    "compensation undid run again (409 otherwise)",
)
def retry(request: HttpRequest, run_id: int) -> Any:
    return _control(request, run_id, Capability.RETRY_RUNS, retry_run)


@router.post(
    "/runs/{run_id}/pause",
    response=RunDetailOut,
    tags=["runs"],
    summary="Pause a run before its next step (a step running finishes and is recorded); its "
    "timers and events are kept (409 if it ended, is cancelling or is paused)",
)
def pause(request: HttpRequest, run_id: int) -> Any:
    return _control(request, run_id, Capability.CANCEL_RUNS, pause_run)


@router.post(
    "/runs/{run_id}/resume",
    response=RunDetailOut,
    tags=["runs"],
    summary="Resume a paused run: it replays its journal and carries on (409 if not paused)",
)
def resume(request: HttpRequest, run_id: int) -> Any:
    return _control(request, run_id, Capability.CANCEL_RUNS, resume_run)


@router.post(
    "/events",
    response={202: EventOut},
    tags=["events"],
    summary="Deliver an event: stored once per id, matched to waiting runs",
)
def post_event(request: HttpRequest, body: EventIn) -> Status[EventOut]:
    require_capability(request, Capability.START_RUNS)
    try:
        delivery = deliver_event(body.type, body.payload, event_id=body.id, source="api")
    except EventInputError as bad:
        raise FieldError(422, bad.field, bad.message) from None
    return Status(
        202,
        EventOut(
            id=delivery.event.event_id,
            type=delivery.event.type,
            created=delivery.created,
            woken_runs=delivery.woken_runs,
            started_runs=delivery.started_runs,
        ),
    )


@router.get(
    "/events",
    response=list[EventRecordOut],
    tags=["events"],
    summary="Event history, newest first: each event with the runs it started and woke",
)
def list_events(
    request: HttpRequest, type: str | None = None, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    require_capability(request, Capability.VIEW)
    size = page_limit(limit, default=50, most=500)
    return event_history(event_type=type, source=source, limit=size)
