"""Webhook endpoints and their deliveries in the JSON API; deliveries themselves go to /hooks/."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError, RefusalOut
from accounts.roles import Capability
from engine.api.errors import found_or_404
from engine.api.paging import page_limit
from engine.inbound.webhook_endpoints import (
    DEFAULT_SECRET_HEADER,
    create_endpoint,
    rotate_secret,
    update_endpoint,
)
from engine.inbound.webhooks import WebhookError, replay_delivery
from engine.models import DeliveryStatus, Verification, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])


class EndpointOut(Schema):
    slug: str
    title: str
    url: str
    event_type: str
    workflow: str
    input: Any = None
    priority: int
    active: bool
    tolerance_seconds: int
    max_body_bytes: int
    verification: str
    secret_header: str
    previous_secret_until: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_url(endpoint: WebhookEndpoint) -> str:
        return f"/hooks/{endpoint.slug}"


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="Shown this once: keep it where the sender signs from.")


OWN_KEY_HELP = (
    "The sender's own signing secret (Stripe and Slack make theirs); left out, one is made."
)


PRIORITY_HELP = "The priority of the runs its deliveries start, -100 (last) to 100 (first)."


class EndpointIn(BodyIn):
    slug: str
    title: str = Field("", max_length=200)
    event_type: str = ""
    workflow: str = ""
    input: Any = None
    priority: int = Field(0, description=PRIORITY_HELP)
    tolerance_seconds: int = 300
    max_body_bytes: int = 1_000_000
    verification: str = Field(
        Verification.STANDARD, description=f"One of {', '.join(Verification.values)}."
    )
    secret_header: str = Field(
        DEFAULT_SECRET_HEADER, description="The header carrying the secret (shared-secret only)."
    )
    secret: str | None = Field(None, description=OWN_KEY_HELP)


class EndpointChangeIn(BodyIn):
    """Only the fields given change; the slug and the secret never do here."""

    title: str | None = Field(None, max_length=200)
    active: bool | None = None
    event_type: str | None = None
    workflow: str | None = None
    input: Any = None
    priority: int | None = Field(None, description=PRIORITY_HELP)
    tolerance_seconds: int | None = None
    max_body_bytes: int | None = None
    verification: str | None = None
    secret_header: str | None = None


class RotateIn(BodyIn):
    overlap_seconds: float = Field(
        86_400, ge=0, description="How long the old secret stays valid (0: not at all)."
    )
    secret: str | None = Field(None, description=OWN_KEY_HELP)


class DeliveryOut(Schema):
    id: str
    status: str
    received_at: datetime
    processed_at: datetime | None
    error: str
    event: str | None
    run: int | None
    replays: int

    @staticmethod
    def resolve_id(delivery: WebhookDelivery) -> str:
        return delivery.delivery_id

    @staticmethod
    def resolve_event(delivery: WebhookDelivery) -> str | None:
        return delivery.event.event_id if delivery.event is not None else None

    @staticmethod
    def resolve_run(delivery: WebhookDelivery) -> int | None:
        return delivery.run_id


def _refuse(error: WebhookError) -> FieldError:
    return FieldError(error.status, error.field, error.message)


def _endpoint(slug: str) -> WebhookEndpoint:
    return found_or_404(WebhookEndpoint, "slug", "webhook endpoint called", slug=slug)


@router.get("/webhooks", response=list[EndpointOut], summary="Webhook endpoints (never secrets)")
def list_endpoints(request: HttpRequest) -> Any:
    require_capability(request, Capability.VIEW)
    return WebhookEndpoint.objects.order_by("slug")


@router.post(
    "/webhooks",
    response={201: EndpointWithSecretOut},
    summary="Create an endpoint; its secret is in this answer and never again",
)
def create(request: HttpRequest, body: EndpointIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_SCHEDULES)
    try:
        endpoint, _ = create_endpoint(
            body.slug,
            title=body.title,
            event_type=body.event_type,
            workflow=body.workflow,
            input=body.input,
            priority=body.priority,
            tolerance_seconds=body.tolerance_seconds,
            max_body_bytes=body.max_body_bytes,
            verification=body.verification,
            secret_header=body.secret_header,
            secret=body.secret,
        )
    except WebhookError as error:
        raise _refuse(error) from None
    return Status(201, endpoint)  # the only answer that carries the secret, with rotate


@router.patch("/webhooks/{slug}", response=EndpointOut, summary="Change an endpoint's settings")
def change(request: HttpRequest, slug: str, body: EndpointChangeIn) -> Any:
    require_capability(request, Capability.EDIT_SCHEDULES)
    endpoint = _endpoint(slug)
    try:
        given = body.model_dump(exclude_unset=True)
        # null clears the input template; elsewhere it means "unchanged".
        changes = {k: v for k, v in given.items() if v is not None or k == "input"}
        return update_endpoint(endpoint, **changes)
    except WebhookError as error:
        raise _refuse(error) from None


@router.post(
    "/webhooks/{slug}/rotate",
    response=EndpointWithSecretOut,
    summary="Give an endpoint a new secret (shown once); the old one lasts the overlap",
)
def rotate(request: HttpRequest, slug: str, body: RotateIn) -> Any:
    require_capability(request, Capability.EDIT_SCHEDULES)
    endpoint = _endpoint(slug)
    try:
        rotate_secret(endpoint, body.overlap_seconds, body.secret)
    except WebhookError as error:
        raise _refuse(error) from None
    return endpoint  # refreshed: it carries the new secret


@router.get(
    "/webhooks/{slug}/deliveries",
    response=list[DeliveryOut],
    summary="An endpoint's accepted deliveries, newest first, with their outcome",
)
def list_deliveries(
    request: HttpRequest, slug: str, status: str | None = None, limit: int = 50
) -> Any:
    require_capability(request, Capability.VIEW)
    page_limit(limit, default=50, most=500)
    endpoint = _endpoint(slug)
    deliveries = endpoint.deliveries.select_related("event").order_by("-received_at", "-id")
    if status:
        if status not in DeliveryStatus.values:
            raise FieldError(422, "status", f"one of {', '.join(DeliveryStatus.values)}")
        deliveries = deliveries.filter(status=status)
    return deliveries[:limit]


@router.post(
    "/webhooks/{slug}/deliveries/{path:delivery_id}/replay",
    response={202: DeliveryOut, 409: RefusalOut},
    summary="Process a delivery again as a new occurrence (its workflows run again, once)",
)
def replay(request: HttpRequest, slug: str, delivery_id: str) -> Status[Any]:
    require_capability(request, Capability.RETRY_RUNS)
    endpoint = _endpoint(slug)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    delivery = found_or_404(deliveries, "delivery_id", "delivery", delivery_id=delivery_id)
    try:
        replayed = replay_delivery(delivery.pk)
    except WebhookError as error:
        raise _refuse(error) from None
    return Status(202, replayed)
