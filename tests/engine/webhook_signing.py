"""Sending signed webhook deliveries in tests, signed as docs/webhooks.md tells a sender to.

The signatures are computed here from the documented schemes, not with the engine's own code,
so the tests check the schemes themselves.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from django.test import Client


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def sign_standard(secret: str, delivery_id: str, body: bytes, timestamp: int) -> str:
    """The webhook-signature value: v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed
    with the base64 key after `whsec_`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = _hmac(key, f"{delivery_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The Stepwise-Signature (and Stripe-Signature) value: t=<unix seconds>,v1=<hex
    HMAC-SHA256 of "t.body"> keyed with the secret's text."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_hmac(secret.encode(), f'{moment}.'.encode() + body).hex()}"


def signed_headers(
    profile: str, secret: str, body: bytes, delivery_id: str, timestamp: int
) -> dict[str, str]:
    """The headers a sender of this profile sends with `body`."""
    if profile == "standard":
        return {
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_standard(secret, delivery_id, body, timestamp),
        }
    if profile == "stepwise-legacy":
        return {
            "Stepwise-Signature": sign(secret, body, timestamp),
            "Stepwise-Delivery": delivery_id,
        }
    if profile == "stripe":
        return {"Stripe-Signature": sign(secret, body, timestamp)}
    if profile == "github":
        digest = _hmac(secret.encode(), body).hex()
        return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Delivery": delivery_id}
    if profile == "slack":
        digest = _hmac(secret.encode(), f"v0:{timestamp}:".encode() + body).hex()
        return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}
    if profile == "shared-secret":
        return {"X-Webhook-Secret": secret, "webhook-id": delivery_id}
    raise ValueError(profile)


def deliver(
    client: Client,
    slug: str,
    secret: str | None,
    payload: Any = None,
    *,
    body: bytes | None = None,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
    profile: str = "standard",
) -> Any:
    """POST a delivery to /hooks/<slug>, signed with `secret` as `profile` signs (None as
    secret: no signature headers; `signature` replaces the legacy signature header)."""
    raw = body if body is not None else json.dumps(payload).encode()
    moment = int(time.time()) if timestamp is None else timestamp
    ident = delivery_id or f"dlv-{uuid.uuid4().hex[:12]}"
    if secret is not None:
        sent = signed_headers(profile, secret, raw, ident, moment)
    elif profile == "stepwise-legacy":
        sent = {"Stepwise-Delivery": ident}
    else:
        sent = {}
    if signature is not None:
        sent["Stepwise-Signature"] = signature
    sent.update(headers or {})
    return client.post(f"/hooks/{slug}", raw, content_type="application/json", headers=sent)
