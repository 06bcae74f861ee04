"""Sending signed webhook deliveries in tests, signed as docs/webhooks.md tells a sender to.

The signature is computed here from the documented scheme, not with the engine's own code, so
the tests check the scheme itself.
"""

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from django.test import Client


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The Stepwise-Signature header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


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
) -> Any:
    """POST a delivery to /hooks/<slug>: signed with `secret` unless `signature` is given
    (None as secret: no signature header at all)."""
    raw = body if body is not None else json.dumps(payload).encode()
    sent = {"Stepwise-Delivery": delivery_id or f"dlv-{uuid.uuid4().hex[:12]}"}
    if signature is not None:
        sent["Stepwise-Signature"] = signature
    elif secret is not None:
        sent["Stepwise-Signature"] = sign(secret, raw, timestamp)
    sent.update(headers or {})
    return client.post(f"/hooks/{slug}", raw, content_type="application/json", headers=sent)
