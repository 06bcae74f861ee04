"""Engine API: diagnostics now; runs, events and tasks join as they are built."""

from datetime import datetime

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from config.accounts.api_auth import require_capability
from config.accounts.roles import Capability
from engine.actions import request_worker_probe
from engine.models import WorkerProbe

router = Router(tags=["system"])


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
    return get_object_or_404(WorkerProbe, pk=probe_id)
