"""Every refused webhook delivery gets its 4xx with a reason and changes nothing (no delivery
row, no event, no run): a wrong method, an unknown or inactive endpoint, a body over the limit,
a missing, malformed or wrong signature, a timestamp outside the tolerance, a missing delivery
id, a body that is not a JSON object, a delivery id seen before. A rotated secret is accepted
alongside the new one until its overlap ends. An accepted delivery is processed once however
often processing is asked for. The endpoint here reads the deprecated Stepwise-Signature
scheme; test_webhooks__verification_profiles covers every profile.
"""

import functools
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engine.inbound.webhook_endpoints import create_endpoint, rotate_secret
from engine.inbound.webhooks import process_delivery
from engine.models import DeliveryStatus, Event, Run, WebhookDelivery, WebhookEndpoint
from tests.engine import webhook_signing
from tests.engine.webhook_signing import sign

pytestmark = pytest.mark.django_db

deliver = functools.partial(webhook_signing.deliver, profile="stepwise-legacy")


@pytest.fixture
def hook() -> tuple[WebhookEndpoint, str]:
    return create_endpoint(
        "test-orders",
        workflow="test-hook-target",
        input={"order": "{{ event.data.id }}", "source": "{{ delivery.endpoint }}"},
        tolerance_seconds=300,
        max_body_bytes=200,
        verification="stepwise-legacy",
    )


def counts() -> tuple[int, int, int]:
    return WebhookDelivery.objects.count(), Event.objects.count(), Run.objects.count()


def refused(response: Any, status: int, reason: str, field: str) -> None:
    """Refused with the reason, led by the part of the request at fault (the API's shape)."""
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["field"] == field, answer
    assert answer["detail"].startswith(f"{field}: ") and reason in answer["detail"], answer


ORDER = {"data": {"id": "o-1"}}


def test_wrong_method_unknown_and_inactive_endpoints(client: Client, hook: Any) -> None:
    endpoint, secret = hook
    refused(client.get("/hooks/test-orders"), 405, "POST", "method")
    assert client.put("/hooks/test-orders").headers["Allow"] == "POST"
    refused(deliver(client, "nowhere", secret, ORDER), 404, "no active webhook endpoint", "slug")
    refused(deliver(client, "Not_A_Slug", secret, ORDER), 404, "no active webhook endpoint", "slug")
    endpoint.active = False
    endpoint.save(update_fields=["active"])
    refused(deliver(client, "test-orders", secret, ORDER), 404, "'test-orders'", "slug")
    assert counts() == (0, 0, 0)


def test_a_body_over_the_limit_is_refused_unread(client: Client, hook: Any) -> None:
    _, secret = hook
    padded = {"data": {"id": "o-1"}, "pad": "x" * 200}
    refused(deliver(client, "test-orders", secret, padded), 413, "limit of 200 bytes", "body")
    exact = json.dumps({"data": {"id": "o-1"}, "pad": ""}).encode()
    exact = exact.replace(b'"pad": ""', b'"pad": "' + b"x" * (200 - len(exact)) + b'"')
    assert len(exact) == 200
    assert deliver(client, "test-orders", secret, body=exact).status_code == 202
    assert counts() == (1, 0, 0)


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "the header is missing"),
        ("v1=abc", "must read t=<unix seconds>,v1=<hex>"),
        ("t=now,v1=abc", "must read t=<unix seconds>,v1=<hex>"),
        ("t=1700000000", "must read t=<unix seconds>,v1=<hex>"),
        ("t=1700000000,v1=00ff", "does not match"),
    ],
)
def test_missing_or_malformed_signatures(
    client: Client, hook: Any, signature: str | None, reason: str
) -> None:
    response = deliver(client, "test-orders", None, ORDER, signature=signature)
    refused(response, 401, reason, "Stepwise-Signature")
    assert counts() == (0, 0, 0)


def test_a_wrong_secret_or_a_changed_body_does_not_match(client: Client, hook: Any) -> None:
    _, secret = hook
    refused(
        deliver(client, "test-orders", "whsec_guess", ORDER),
        401,
        "does not match",
        "Stepwise-Signature",
    )
    body = json.dumps(ORDER).encode()
    tampered = sign(secret, body).replace("v1=", "v1=0")
    refused(
        deliver(client, "test-orders", None, body=body, signature=tampered),
        401,
        "match",
        "Stepwise-Signature",
    )
    other_body = sign(secret, b'{"data": {"id": "o-2"}}')
    refused(
        deliver(client, "test-orders", None, body=body, signature=other_body),
        401,
        "match",
        "Stepwise-Signature",
    )
    assert counts() == (0, 0, 0)


# Ahead by well over the tolerance: a slow request must not bring a future stamp back inside.
@pytest.mark.parametrize("offset", [-301, 360, -86_400])
def test_a_timestamp_outside_the_tolerance_is_refused(
    client: Client, hook: Any, offset: int
) -> None:
    _, secret = hook
    stale = int(time.time()) + offset
    response = deliver(client, "test-orders", secret, ORDER, timestamp=stale)
    refused(response, 401, "the tolerance is 300 s", "Stepwise-Signature")
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("delivery_id", "body", "status", "reason", "field"),
    [
        ("", b'{"a": 1}', 400, "must hold 1 to 200", "Stepwise-Delivery"),
        ("has space", b'{"a": 1}', 400, "must hold 1 to 200", "Stepwise-Delivery"),
        ("x" * 201, b'{"a": 1}', 400, "must hold 1 to 200", "Stepwise-Delivery"),
        ("d-1", b"not json", 400, "not JSON", "body"),
        ("d-2", b"\xff\xfe", 400, "not JSON", "body"),
        ("d-3", b"[1, 2]", 400, "must be a JSON object", "body"),
    ],
)
def test_bad_delivery_ids_and_bodies(
    client: Client,
    hook: Any,
    delivery_id: str,
    body: bytes,
    status: int,
    reason: str,
    field: str,
) -> None:
    _, secret = hook
    response = deliver(
        client,
        "test-orders",
        secret,
        body=body,
        headers={"Stepwise-Delivery": delivery_id},
    )
    refused(response, status, reason, field)
    assert counts() == (0, 0, 0)


def test_a_delivery_id_seen_before_is_refused(client: Client, hook: Any) -> None:
    _, secret = hook
    accepted = deliver(client, "test-orders", secret, ORDER, delivery_id="evt_1")
    assert accepted.status_code == 202
    assert accepted.json() == {"delivery": "evt_1", "status": "accepted"}
    again = deliver(client, "test-orders", secret, {"data": {"id": "o-9"}}, delivery_id="evt_1")
    refused(again, 409, "'evt_1' was received before", "Stepwise-Delivery")
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body) == ORDER
    assert counts() == (1, 0, 0)


def test_an_accepted_delivery_is_processed_once(client: Client, hook: Any) -> None:
    _, secret = hook
    deliver(client, "test-orders", secret, ORDER, delivery_id="evt_2")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.ACCEPTED
    assert "Stepwise-Signature" not in delivery.headers
    for _ in range(3):  # a task redelivered, a sweeper racing it
        process_delivery(delivery.pk)
    delivery.refresh_from_db()
    run = Run.objects.get()
    assert (delivery.status, delivery.run, delivery.error) == ("processed", run, "")
    assert (run.workflow, run.trigger, run.trigger_ref) == (
        "test-hook-target",
        "webhook",
        "test-orders/evt_2",
    )
    assert run.input == {"order": "o-1", "source": "test-orders"}


def test_a_delivery_that_cannot_be_handed_on_fails_with_its_reason(
    client: Client, hook: Any
) -> None:
    _, secret = hook
    deliver(client, "test-orders", secret, {"no": "data"}, delivery_id="evt_3")
    delivery = process_delivery(WebhookDelivery.objects.get().pk)
    assert delivery is not None
    assert delivery.status == DeliveryStatus.FAILED
    assert 'field "input.order"' in delivery.error
    assert "no such key: 'data'" in delivery.error
    assert counts() == (1, 0, 0)


def test_rotation_accepts_both_secrets_until_the_overlap_ends(client: Client, hook: Any) -> None:
    endpoint, old = hook
    new = rotate_secret(endpoint, timedelta(hours=1))
    assert new != old and new.startswith("whsec_")
    assert deliver(client, "test-orders", old, ORDER).status_code == 202
    assert deliver(client, "test-orders", new, ORDER).status_code == 202
    # Both signatures in one header, as a sender mid-rotation may send them.
    body = json.dumps(ORDER).encode()
    both = sign(old, body) + "," + sign(new, body).split(",")[1]
    assert deliver(client, "test-orders", None, body=body, signature=both).status_code == 202
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    refused(deliver(client, "test-orders", old, ORDER), 401, "does not match", "Stepwise-Signature")
    assert deliver(client, "test-orders", new, ORDER).status_code == 202
    newest = rotate_secret(endpoint, 0)
    refused(deliver(client, "test-orders", new, ORDER), 401, "does not match", "Stepwise-Signature")
    assert deliver(client, "test-orders", newest, ORDER).status_code == 202
    assert counts() == (5, 0, 0)
