"""Webhooks: signed deliveries to /hooks/<slug>, stored once and processed after the 202.

A delivery carries `Stepwise-Signature: t=<unix seconds>,v1=<hex>` where the hex is the
HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's secret, and `Stepwise-Delivery: <id>`,
unique per endpoint (docs/webhooks.md). A rejected delivery changes nothing; an accepted one is
stored and handed on by a worker: as an event, as a run of the endpoint's workflow, and as a run
of every published graph whose `trigger.webhook` node names the endpoint.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.core.definitions import SLUG_PATTERN
from engine.core.expressions import ExpressionError
from engine.core.templates import compile_template, render_value
from engine.core.triggers import event_type_problem
from engine.inbound.events import deliver_event
from engine.inbound.triggers import bounded, webhook_starts
from engine.messaging.dispatch import PROCESS_WEBHOOK_DELIVERY, queue_on_commit
from engine.models import DeliveryStatus, Event, Run, WebhookDelivery, WebhookEndpoint
from engine.runtime.resolving import UnknownWorkflow, resolve
from engine.runtime.runs import create_run

SIGNATURE_HEADER = "Stepwise-Signature"
DELIVERY_HEADER = "Stepwise-Delivery"
SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that makes a leaked secret recognisable)
MAX_BODY_LIMIT = 10_000_000
MAX_TOLERANCE = 86_400
KEPT_HEADERS = ("Content-Type", "User-Agent", DELIVERY_HEADER)
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
BATCH = 50


class WebhookRejected(Exception):
    """A delivery refused with an HTTP status and a reason; nothing was stored."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


class WebhookError(ValueError):
    """A bad endpoint setting or operator request: the message names the field."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        self.field = field
        self.message = message
        self.status = status
        super().__init__(f"{field}: {message}")


# --- signing ------------------------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"`: what `v1=` carries."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_signature(header: str | None) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) from the header, or WebhookRejected(401) saying what is wrong."""
    if not header:
        raise WebhookRejected(401, f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == SCHEME and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected(
            401, f"the {SIGNATURE_HEADER} header must read t=<unix seconds>,{SCHEME}=<hex>"
        )
    return timestamp, signatures


def valid_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its rotation overlap lasts."""
    found = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > now
    ):
        found.append(endpoint.previous_secret)
    return found


def verify_signature(
    endpoint: WebhookEndpoint, header: str | None, body: bytes, now: datetime
) -> None:
    """Raise WebhookRejected(401) unless a valid secret signed this body recently enough."""
    timestamp, signatures = parse_signature(header)
    # Every candidate is compared in constant time, so timing tells nothing about the secret.
    matched = False
    for secret in valid_secrets(endpoint, now):
        expected = compute_signature(secret, timestamp, body)
        for given in signatures:
            matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise WebhookRejected(401, "the signature does not match the body and the secret")
    skew = abs(now.timestamp() - timestamp)
    if skew > endpoint.tolerance_seconds:
        raise WebhookRejected(
            401,
            f"the signature's timestamp is {skew:.0f} s away from the server's clock; "
            f"the tolerance is {endpoint.tolerance_seconds} s (a replayed or delayed delivery)",
        )


# --- receiving ------------------------------------------------------------------------------------
def receivable_endpoint(slug: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(slug=slug, active=True).first()
    if endpoint is None:
        raise WebhookRejected(404, f"no active webhook endpoint called {slug!r}")
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
            413, f"the body is larger than this endpoint's limit of {endpoint.max_body_bytes} bytes"
        )
    now = timezone.now()
    verify_signature(endpoint, headers.get(SIGNATURE_HEADER), body, now)
    delivery_id = headers.get(DELIVERY_HEADER, "")
    if not _DELIVERY_ID.match(delivery_id):
        raise WebhookRejected(
            400, f"the {DELIVERY_HEADER} header must hold 1 to 200 visible ASCII characters"
        )
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(400, f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "the body must be a JSON object")
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
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
                409, f"delivery {delivery_id!r} was received before and is not processed again"
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
    starts: dict[str, Any] = {}
    for trigger, template in webhook_starts(endpoint.slug):
        if trigger.workflow in starts:
            continue
        starts[trigger.workflow] = (
            payload
            if template is None
            else render_value(template, scope, node=trigger.node, field="input")
        )
    if endpoint.workflow and (endpoint.input is not None or endpoint.workflow not in starts):
        starts[endpoint.workflow] = shaped
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
        )
        for workflow, run_input in starts.items()
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


def rotate_secret(endpoint: WebhookEndpoint, overlap: float | timedelta = 86_400) -> str:
    """Give the endpoint a new secret and return it (to be shown once).

    The old secret stays valid for `overlap` (seconds or a timedelta), so senders can switch
    without a refused delivery; an overlap of 0 ends it at once.
    """
    seconds = overlap.total_seconds() if isinstance(overlap, timedelta) else float(overlap)
    if seconds < 0:
        raise WebhookError("overlap", "cannot be negative")
    secret = new_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if seconds:
            locked.previous_secret = locked.secret
            locked.previous_secret_until = timezone.now() + timedelta(seconds=seconds)
        else:
            locked.previous_secret, locked.previous_secret_until = "", None
        locked.secret = secret
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    endpoint.refresh_from_db()
    return secret


def endpoint_problems(
    *,
    slug: Any = None,
    event_type: Any = "",
    workflow: Any = "",
    input: Any = None,
    tolerance_seconds: Any = 300,
    max_body_bytes: Any = 1_000_000,
) -> list[WebhookError]:
    """Every problem of an endpoint's settings, each naming its field (slug None: unchanged)."""
    problems = []
    if slug is not None and not (isinstance(slug, str) and SLUG_PATTERN.match(slug)):
        problems.append(
            WebhookError("slug", "lowercase letters, digits and hyphens, at most 100 characters")
        )
    if event_type:
        problem = event_type_problem(event_type)
        if problem is not None:
            problems.append(WebhookError("event_type", problem))
    if workflow:
        try:
            resolve(str(workflow))
        except UnknownWorkflow:
            problems.append(WebhookError("workflow", f"no workflow called {workflow!r}"))
    if input is not None:
        problems += _template_problems(input, "input")
    if not (isinstance(tolerance_seconds, int) and 1 <= tolerance_seconds <= MAX_TOLERANCE):
        problems.append(
            WebhookError("tolerance_seconds", f"a whole number from 1 to {MAX_TOLERANCE}")
        )
    if not (isinstance(max_body_bytes, int) and 1 <= max_body_bytes <= MAX_BODY_LIMIT):
        problems.append(
            WebhookError("max_body_bytes", f"a whole number from 1 to {MAX_BODY_LIMIT}")
        )
    return problems


def _template_problems(value: Any, field: str) -> list[WebhookError]:
    if isinstance(value, str):
        try:
            compile_template(value)
        except ExpressionError as error:
            return [WebhookError(field, str(error))]
        return []
    if isinstance(value, Mapping):
        return [
            problem
            for key, item in value.items()
            for problem in _template_problems(item, f"{field}.{key}")
        ]
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _template_problems(item, f"{field}[{index}]")
        ]
    return []


def create_endpoint(
    slug: str,
    *,
    title: str = "",
    event_type: str = "",
    workflow: str = "",
    input: Any = None,
    tolerance_seconds: int = 300,
    max_body_bytes: int = 1_000_000,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with a fresh secret; returns it with the secret (to be shown once)."""
    problems = endpoint_problems(
        slug=slug,
        event_type=event_type,
        workflow=workflow,
        input=input,
        tolerance_seconds=tolerance_seconds,
        max_body_bytes=max_body_bytes,
    )
    if problems:
        raise problems[0]
    secret = new_secret()
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(
                slug=slug,
                title=title,
                secret=secret,
                event_type=event_type,
                workflow=workflow,
                input=input,
                tolerance_seconds=tolerance_seconds,
                max_body_bytes=max_body_bytes,
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise WebhookError("slug", f"an endpoint called {slug!r} exists already", 409) from None
    return endpoint, secret
