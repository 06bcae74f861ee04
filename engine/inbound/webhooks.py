"""Webhooks: signed deliveries to /hooks/<slug>, stored once and processed after the 202.

Each endpoint verifies deliveries as its profile says (engine.inbound.signatures; Standard
Webhooks unless chosen otherwise), and an id is unique per endpoint (docs/webhooks.md). A
rejected delivery changes nothing; an accepted one is stored and handed on by a worker: as an
event, as a run of the endpoint's workflow, and as a run of every published graph whose
`trigger.webhook` node names the endpoint.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping

from engine.core.expressions import ExpressionError
from engine.core.templates import render_value
from engine.inbound.events import deliver_event
from engine.inbound.signatures import (
    LEGACY_DELIVERY_HEADER,
    STANDARD_ID,
    WebhookRejected,
    valid_secrets,
    verify_delivery,
)
from engine.inbound.triggers import bounded, webhook_starts
from engine.messaging.dispatch import PROCESS_WEBHOOK_DELIVERY, queue_on_commit
from engine.models import DeliveryStatus, Event, Run, WebhookDelivery, WebhookEndpoint
from engine.runtime.resolving import UnknownWorkflow
from engine.runtime.runs import create_run

KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    STANDARD_ID,
    LEGACY_DELIVERY_HEADER,
    "X-GitHub-Delivery",
    "X-GitHub-Event",
    "X-Slack-Retry-Num",
)
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
BATCH = 50


class WebhookError(ValueError):
    """A bad endpoint setting or operator request: the message names the field."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        self.field = field
        self.message = message
        self.status = status
        super().__init__(f"{field}: {message}")


# --- receiving ------------------------------------------------------------------------------------
def receivable_endpoint(slug: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(slug=slug, active=True).first()
    if endpoint is None:
        raise WebhookRejected(404, "slug", f"no active webhook endpoint called {slug!r}")
    return endpoint


def accept_delivery(
    endpoint: WebhookEndpoint, headers: Mapping[str, str], body: bytes
) -> WebhookDelivery:
    """Verify and store a delivery, and have a worker process it once the row is committed.

    Raises WebhookRejected, having changed nothing, for a body over the size limit (413), a
    missing or wrong signature or a stale timestamp (401), a missing delivery id or a body
    that is not a JSON object (400) and a delivery id seen before (409).
    """
    if len(body) > endpoint.max_body_bytes:
        raise WebhookRejected(
            413, "body", f"larger than this endpoint's limit of {endpoint.max_body_bytes} bytes"
        )
    now = timezone.now()
    verified = verify_delivery(endpoint, valid_secrets(endpoint, now), headers, body, now)
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(400, "body", f"not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "body", "must be a JSON object")
    delivery_id = verified.delivery_id
    if delivery_id is None and verified.id_key is not None:
        delivery_id = payload.get(verified.id_key)
    if delivery_id is None:
        delivery_id = verified.fallback_id
    if not (isinstance(delivery_id, str) and _DELIVERY_ID.match(delivery_id)):
        raise WebhookRejected(
            400, verified.id_field, "the delivery id must hold 1 to 200 visible ASCII characters"
        )
    given = CaseInsensitiveMapping(headers)
    kept = {name: given[name] for name in KEPT_HEADERS if name in given}
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    delivery_id=delivery_id,
                    received_at=now,
                    body=text,
                    headers=kept,
                )
        except IntegrityError:
            raise WebhookRejected(
                409,
                verified.id_field,
                f"delivery {delivery_id!r} was received before and is not processed again",
            ) from None
        queue_on_commit(PROCESS_WEBHOOK_DELIVERY, delivery.pk)
    return delivery


# --- processing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    event: Event | None
    runs: list[Run]


def occurrence(delivery: WebhookDelivery) -> str:
    """What makes this processing unique: the delivery id, and the replay number if any."""
    if not delivery.replays:
        return delivery.delivery_id
    return f"{delivery.delivery_id}:replay-{delivery.replays}"


def delivery_event_id(delivery: WebhookDelivery, slug: str) -> str:
    return bounded(f"webhook:{slug}:{occurrence(delivery)}")


def process_delivery(delivery_pk: int) -> WebhookDelivery | None:
    """Hand an accepted delivery on, exactly once: redelivered tasks and racing sweepers find
    it processed (or failed) under the row lock and do nothing."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_pk)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.ACCEPTED:
            return delivery
        try:
            with transaction.atomic():
                outcome = hand_on(delivery)
        except (ExpressionError, WebhookError, UnknownWorkflow, TypeError, ValueError) as error:
            delivery.status = DeliveryStatus.FAILED
            delivery.error = str(error)
            delivery.event, delivery.run = None, None
        else:
            delivery.status = DeliveryStatus.PROCESSED
            delivery.error = ""
            delivery.event = outcome.event
            delivery.run = outcome.runs[0] if outcome.runs else None
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["status", "error", "event", "run", "processed_at"])
    return delivery


def hand_on(delivery: WebhookDelivery) -> Outcome:
    """Deliver the event and start the runs a delivery maps to (in the caller's transaction)."""
    endpoint = delivery.endpoint
    payload = json.loads(delivery.body)
    scope = {
        "event": payload,
        "delivery": {
            "id": delivery.delivery_id,
            "endpoint": endpoint.slug,
            "received_at": delivery.received_at.isoformat(),
            "replay": delivery.replays,
        },
    }
    shaped = (
        payload if endpoint.input is None else render_value(endpoint.input, scope, field="input")
    )
    event = None
    if endpoint.event_type:
        if not isinstance(shaped, dict):
            raise WebhookError("input", "an endpoint that emits an event must shape an object")
        event = deliver_event(
            endpoint.event_type,
            shaped,
            internal_id=delivery_event_id(delivery, endpoint.slug),
            source="webhook",
        ).event
    # workflow -> (its input, its runs' priority)
    starts: dict[str, tuple[Any, int]] = {}
    for trigger, template in webhook_starts(endpoint.slug):
        if trigger.workflow in starts:
            continue
        starts[trigger.workflow] = (
            payload
            if template is None
            else render_value(template, scope, node=trigger.node, field="input"),
            trigger.priority,
        )
    if endpoint.workflow and (endpoint.input is not None or endpoint.workflow not in starts):
        starts[endpoint.workflow] = (shaped, endpoint.priority)
    if event is None and not starts:
        raise WebhookError(
            "endpoint",
            f"{endpoint.slug!r} names no event type and no workflow, and no published graph "
            "starts on it",
        )
    reference = bounded(f"{endpoint.slug}/{occurrence(delivery)}")
    key = bounded(f"webhook:{endpoint.slug}:{occurrence(delivery)}")
    runs = [
        create_run(
            workflow,
            run_input,
            trigger="webhook",
            trigger_ref=reference,
            idempotency_key=key,
            priority=priority,
        )
        for workflow, (run_input, priority) in starts.items()
    ]
    return Outcome(event, runs)


def process_waiting_deliveries() -> int:
    """Sweeper: process deliveries whose task was lost (a broker restart, the embedded queue)."""
    cutoff = timezone.now() - timedelta(seconds=settings.STEPWISE_REDISPATCH_SECONDS)
    with transaction.atomic():
        waiting = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.ACCEPTED, received_at__lt=cutoff)
            .order_by("received_at")
            .values_list("pk", flat=True)[:BATCH]
        )
        for pk in waiting:
            process_delivery(pk)
    return len(waiting)


# --- operating ------------------------------------------------------------------------------------
def replay_delivery(delivery_pk: int) -> WebhookDelivery:
    """Process a processed or failed delivery again, as a new occurrence.

    The n-th replay hands the stored body on under ids suffixed `:replay-<n>` (event id, run
    idempotency key), so the workflows it maps to run again, once per replay however often
    the worker's message is redelivered. A delivery not yet processed cannot be replayed.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_pk)
        if delivery.status == DeliveryStatus.ACCEPTED:
            raise WebhookError(
                "delivery",
                f"{delivery.delivery_id!r} is still waiting to be processed; replay it after",
                status=409,
            )
        delivery.status = DeliveryStatus.ACCEPTED
        delivery.replays += 1
        delivery.error = ""
        delivery.processed_at = None
        delivery.event, delivery.run = None, None
        delivery.save(update_fields=["status", "replays", "error", "processed_at", "event", "run"])
        queue_on_commit(PROCESS_WEBHOOK_DELIVERY, delivery.pk)
    return delivery
