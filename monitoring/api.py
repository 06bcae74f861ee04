"""The run page's data as JSON: a run's timeline and one step's details (also read by the
canvas's run overlay). Viewers and up; the same rule as GET /api/runs/{id}, sensitive input
masked the same way (engine.runtime.masking)."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from accounts.api_auth import require_capability
from accounts.api_refusals import FieldError
from accounts.roles import Capability
from engine.api.errors import found_or_404
from engine.models import Run, StepRecord
from engine.runtime.masking import mask_for
from monitoring.run_timeline import (
    MAX_TIMELINE_RECORDS,
    load_folded_timeline,
    load_items,
    load_timeline,
    node_step_id,
    step_detail,
)

# A page of a folded row's items: a screenful by default.
ITEMS_PAGE = 50
MAX_ITEMS_PAGE = 200
ITEM_STATUSES = ("completed", "failed", "retrying", "waiting", "running", "queued", "cancelled")

router = Router(tags=["runs"])


@router.get(
    "/runs/{run_id}/timeline",
    summary="The run as a Gantt chart: rows of attempts split into queued, running, back-off "
    "and waiting spans (milliseconds after t0), and a one-line verdict; a loop's items and a "
    "big parallel group's branches fold into one row each unless fold=false",
)
def get_timeline(
    request: HttpRequest, run_id: int, internal: bool = False, fold: bool = True
) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    load = load_folded_timeline if fold else load_timeline
    timeline = load(run, show_internal=internal)
    return timeline.answer(mask_for(request.user, run), folded=fold)


@router.get(
    "/runs/{run_id}/timeline/items",
    summary="One page of a folded timeline row's items (its `group`), as timeline rows; "
    "`status` keeps only the items whose last attempt has it (e.g. failed)",
)
def get_timeline_items(
    request: HttpRequest,
    run_id: int,
    group: str,
    offset: int = 0,
    limit: int = ITEMS_PAGE,
    status: str | None = None,
    internal: bool = False,
) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    if len(group) > 300:
        raise FieldError(422, "group", "at most 300 characters")
    if not 0 <= offset <= MAX_TIMELINE_RECORDS:
        raise FieldError(422, "offset", f"from 0 to {MAX_TIMELINE_RECORDS:,}")
    if not 1 <= limit <= MAX_ITEMS_PAGE:
        raise FieldError(422, "limit", f"from 1 to {MAX_ITEMS_PAGE}")
    if status is not None and status not in ITEM_STATUSES:
        raise FieldError(422, "status", f"one of {', '.join(ITEM_STATUSES)}")
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    mask = mask_for(request.user, run)
    page = load_items(run, group, offset=offset, limit=limit, status=status, show_internal=internal)
    if page is None:
        raise FieldError(404, "group", f"the timeline of run {run_id} folds no group {group!r}")
    return {**mask.value(page, numbers=False), "masked": mask.masks_anything}


@router.get(
    "/runs/{run_id}/steps/{step_id}",
    summary="One step of a run (the position of journal row step_id): input, output, error, "
    "every attempt and its logs",
)
def get_step(request: HttpRequest, run_id: int, step_id: int) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    found = step_detail(run, step_id, mask_for(request.user, run))
    if found is None:
        raise FieldError(404, "step_id", f"run {run_id} has no step {step_id}")
    return found


@router.get(
    "/runs/{run_id}/nodes/{node_id}",
    summary="The newest step a canvas node ran in this run, as /runs/{id}/steps/{step_id}",
)
def get_node_step(request: HttpRequest, run_id: int, node_id: str) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    if len(node_id) > 200:
        raise FieldError(422, "node_id", "at most 200 characters")
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    step_id = node_step_id(run, node_id)
    found = step_detail(run, step_id, mask_for(request.user, run)) if step_id else None
    if found is None:
        raise FieldError(404, "node_id", f"node {node_id} did not run in run {run_id}")
    return found


@router.get(
    "/runs/{run_id}/step-states",
    summary="The run's status and every journal row's name, kind and status, in journal order, "
    "without data: what the canvas's run overlay colours nodes from",
)
def get_step_states(request: HttpRequest, run_id: int) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    # GET /runs/{id} pages its journal and carries every output; a 10,000-item loop needs all
    # of its rows' states but none of their data, so this reads three short columns.
    mask = mask_for(request.user, run)
    rows = StepRecord.objects.filter(run=run).order_by("id").values_list("name", "kind", "status")
    return {
        "id": run.pk,
        "status": run.status,
        "steps": [
            {"name": mask.text(name), "kind": kind, "status": status} for name, kind, status in rows
        ],
    }
