"""Engine API: state machine instances and the events sent to them.

Operators (who may start runs) create instances and send events; every role may read them.
The designer's API owns the machines themselves (/machines, drafts, versions).
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError, RefusalOut
from accounts.roles import Capability
from engine.api.errors import found_or_404
from engine.api.paging import page_limit
from engine.machines.definitions import UnknownMachine
from engine.machines.instances import (
    DuplicateInstance,
    MachineInputError,
    create_instance,
    send_event,
)
from engine.machines.migrating import migrate_instance
from engine.machines.queries import (
    event_out,
    instance_detail,
    instance_summary,
    instances_of,
    machine_exists,
    state_counts,
)
from engine.models import MachineEvent, MachineInstance

router = Router(tags=["machines"])


class InstanceIn(BodyIn):
    key: str = Field(min_length=1, max_length=200, description="The entity's id: order-1042")
    context: dict[str, Any] = Field(default_factory=dict)


class MigrateIn(BodyIn):
    version: int = Field(ge=1, description="The published version to move the instance to")
    states: dict[str, str] = Field(
        default_factory=dict,
        description="Old state → new state; a state of the same name is kept when not mapped",
    )


class MachineEventIn(BodyIn):
    event: str = Field(min_length=1, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Sending the same id again "
        "returns the event stored the first time (200) and changes nothing",
    )


class MachineEventOut(Schema):
    id: int
    event_id: str
    name: str
    data: dict[str, Any]
    source: str
    status: str = Field(description="pending, applying, applied, refused or failed")
    from_state: str
    to_state: str
    transition: str
    reason: str = Field(description="Why it was refused or failed, naming state, event or guard")
    guard: str
    actions: list[dict[str, Any]]
    actor: str | None
    run_id: int | None
    received_at: datetime
    applied_at: datetime | None


class AllowedEventOut(Schema):
    event: str
    transition: str
    target: str
    guard: str
    allowed: bool = Field(description="The guard's verdict now, on no event data")
    reason: str


class TimerOut(Schema):
    transition: str
    entered_at: datetime
    due_at: datetime


class InstanceOut(Schema):
    id: int
    machine: str
    version: int = Field(description="The pinned version; 0 for a machine written in code")
    key: str
    state: str = Field(description="The active leaf state")
    status: str
    context: dict[str, Any]
    entered_at: datetime
    seconds_in_state: float
    created_at: datetime
    updated_at: datetime
    applying_run: int | None = Field(description="The run applying an event now, if any")


class OpenTaskOut(Schema):
    id: int = Field(description="Decided at /inbox/{id}/ or POST /api/tasks/{id}/decide")
    kind: str
    title: str
    state: str = Field(description="The state whose entry opened it; leaving it withdraws it")


class InstanceDetailOut(InstanceOut):
    allowed_events: list[AllowedEventOut]
    tasks: list[OpenTaskOut] = Field(
        description="Open approvals or reviews; each decision arrives as a task.<outcome> event"
    )
    timers: list[TimerOut]
    history: list[MachineEventOut]


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _instance(instance_id: int) -> MachineInstance:
    return found_or_404(MachineInstance, "instance_id", "instance", pk=instance_id)


@router.post(
    "/machines/{slug}/instances",
    response={201: InstanceDetailOut, 404: RefusalOut, 409: RefusalOut, 422: RefusalOut},
    summary="Create an instance keyed by an entity id; it enters the initial state",
)
def post_instance(request: HttpRequest, slug: str, body: InstanceIn) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    try:
        instance = create_instance(slug, body.key, body.context, actor=_actor(request))
    except UnknownMachine as missing:
        raise FieldError(404, "slug", str(missing)) from None
    except DuplicateInstance as duplicate:
        raise FieldError(409, "key", str(duplicate)) from None
    except MachineInputError as wrong:
        raise FieldError(422, wrong.field, wrong.message) from None
    except TypeError as not_json:
        raise FieldError(422, "context", str(not_json)) from None
    return Status(201, instance_detail(instance))


class StateCountsOut(Schema):
    counts: dict[str, int]
    total: int


@router.get(
    "/machines/{slug}/states",
    response={200: StateCountsOut, 404: RefusalOut},
    summary="How many instances are in each state right now (states with none are left out)",
)
def get_state_counts(request: HttpRequest, slug: str) -> Status[Any]:
    require_capability(request, Capability.VIEW)
    if not machine_exists(slug):
        raise FieldError(404, "slug", f"no machine called {slug!r}")
    counts = state_counts(slug)
    return Status(200, {"counts": counts, "total": sum(counts.values())})


@router.get(
    "/machines/{slug}/instances",
    response={200: list[InstanceOut], 404: RefusalOut},
    summary="A machine's instances, longest in their state first, by state and time in state",
)
def list_instances(
    request: HttpRequest,
    slug: str,
    state: str | None = None,
    min_seconds_in_state: float | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Status[Any]:
    require_capability(request, Capability.VIEW)
    page_limit(limit, default=50, most=500)
    if offset < 0:
        raise FieldError(422, "offset", "must be 0 or more")
    if min_seconds_in_state is not None and min_seconds_in_state < 0:
        raise FieldError(422, "min_seconds_in_state", "must be 0 or more")
    if not machine_exists(slug):
        raise FieldError(404, "slug", f"no machine called {slug!r}")
    now = timezone.now()
    found = instances_of(slug, state=state, min_seconds_in_state=min_seconds_in_state)
    return Status(200, [instance_summary(item, now) for item in found[offset : offset + limit]])


@router.get(
    "/instances/{instance_id}",
    response=InstanceDetailOut,
    summary="An instance: state, context, allowed events with their guards' verdicts, "
    "pending delayed transitions, history",
)
def get_instance(request: HttpRequest, instance_id: int) -> Any:
    require_capability(request, Capability.VIEW)
    return instance_detail(_instance(instance_id))


@router.post(
    "/instances/{instance_id}/events",
    response={200: MachineEventOut, 202: MachineEventOut, 422: RefusalOut},
    summary="Send an event (202, queued and applied in order by a worker); a repeated id "
    "returns the first one (200). A refusal shows in the event once applied.",
)
def post_instance_event(
    request: HttpRequest, instance_id: int, body: MachineEventIn
) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    _instance(instance_id)
    try:
        event, created = send_event(
            instance_id, body.event, body.data, event_id=body.id, actor=_actor(request)
        )
    except MachineInputError as wrong:
        raise FieldError(422, wrong.field, wrong.message) from None
    except TypeError as not_json:
        raise FieldError(422, "data", str(not_json)) from None
    event = MachineEvent.objects.select_related("actor").get(pk=event.pk)
    return Status(202 if created else 200, event_out(event))


@router.post(
    "/instances/{instance_id}/migrate",
    response={200: MachineEventOut, 422: RefusalOut},
    summary="Move an instance to another published version, mapping its state; recorded in "
    "its history as @migrate. Publishing alone never moves an instance.",
)
def migrate(request: HttpRequest, instance_id: int, body: MigrateIn) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    _instance(instance_id)
    try:
        event = migrate_instance(instance_id, body.version, body.states, actor=_actor(request))
    except MachineInputError as wrong:
        raise FieldError(422, wrong.field, wrong.message) from None
    event = MachineEvent.objects.select_related("actor").get(pk=event.pk)
    return Status(200, event_out(event))
