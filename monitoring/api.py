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
from monitoring.run_timeline import load_timeline, node_step_id, step_detail

router = Router(tags=["runs"])


@router.get(
    "/runs/{run_id}/timeline",
    summary="The run as a Gantt chart: rows of attempts split into queued, running, back-off "
    "and waiting spans (milliseconds after t0), and a one-line verdict",
)
def get_timeline(request: HttpRequest, run_id: int, internal: bool = False) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    run = found_or_404(Run, "run_id", "run", pk=run_id)
    # Labels and errors may quote sensitive input; the chart's numbers are timings, kept.
    mask = mask_for(request.user, run)
    shown = mask.value(load_timeline(run, show_internal=internal).as_json(), numbers=False)
    # Tells a page its "***" are masks, to say so in words.
    return {**shown, "masked": mask.masks_anything}


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
