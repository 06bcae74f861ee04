"""How each verification profile proves that a webhook delivery came from its sender.

`standard` (Standard Webhooks) is the native scheme: it signs the delivery id with the
timestamp and the body, so a captured delivery cannot be sent again under a fresh id.
`stepwise-legacy` is the earlier `Stepwise-Signature` scheme, readable for one deprecation
period; it signs no id. `stripe`, `github` and `slack` read what those senders send, and
`shared-secret` compares a header with the secret for senders that cannot sign.
Every comparison is constant-time and checks every candidate, so timing tells nothing.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils.datastructures import CaseInsensitiveMapping

from engine.models import Verification, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that makes a leaked secret recognisable)
LEGACY_HEADER = "Stepwise-Signature"
LEGACY_DELIVERY_HEADER = "Stepwise-Delivery"
STANDARD_ID, STANDARD_TIMESTAMP, STANDARD_SIGNATURE = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


class WebhookRejected(Exception):
    """A delivery refused with an HTTP status and a reason; nothing was stored.

    `field` is the part of the request at fault, as the API's refusals name it: a header's
    name, `body` (or `body.<key>`), or `slug` for the address.
    """

    def __init__(self, status: int, field: str, reason: str) -> None:
        self.status = status
        self.field = field
        self.reason = reason
        super().__init__(f"{status}: {field}: {reason}")


@dataclass(frozen=True)
class Verified:
    """What a verified delivery says about its id.

    `delivery_id` is the id a header gave (None: the sender sends none); `id_key` names the
    body's key that holds it instead; `fallback_id` is used when neither does: a digest of
    what was signed, so only an identical resend collides with it. `id_field` names where the
    id came from, for a refusal of it.
    """

    delivery_id: str | None
    id_field: str
    id_key: str | None = None
    fallback_id: str | None = None


def signing_key(verification: str, secret: str) -> bytes | None:
    """The HMAC key a secret stands for: Standard Webhooks secrets are `whsec_<base64 key>`,
    every other profile keys with the secret's text. None: not a usable standard secret."""
    if verification != Verification.STANDARD:
        return secret.encode()
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) >= 16 else None


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


@dataclass(frozen=True)
class Incoming:
    """A delivery as a profile checks it: the endpoint, the keys its valid secrets stand for."""

    endpoint: WebhookEndpoint
    keys: list[bytes]
    headers: Mapping[str, str]
    body: bytes
    now: float

    def header(self, name: str) -> str:
        value = self.headers.get(name, "")
        if not value:
            raise WebhookRejected(401, name, "the header is missing")
        return value

    def check(
        self, header: str, signed: bytes, given: list[str], encode: Callable[[bytes], str]
    ) -> None:
        """Refuse unless a key signed `signed` as one of `given` (each compared in full)."""
        matched = False
        for key in self.keys:
            expected = encode(hmac.new(key, signed, hashlib.sha256).digest())
            for candidate in given:
                matched |= hmac.compare_digest(expected.encode(), candidate.encode())
        if not matched:
            raise WebhookRejected(
                401, header, "the signature does not match the body and the secret"
            )

    def check_age(self, header: str, timestamp: int) -> None:
        skew = abs(self.now - timestamp)
        tolerance = self.endpoint.tolerance_seconds
        if skew > tolerance:
            raise WebhookRejected(
                401,
                header,
                f"the signature's timestamp is {skew:.0f} s away from the server's clock; "
                f"the tolerance is {tolerance} s (a replayed or delayed delivery)",
            )


def verify_delivery(
    endpoint: WebhookEndpoint,
    secrets: list[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Verified:
    """Check a delivery as the endpoint's profile says; WebhookRejected(401 or 400) otherwise."""
    keys = [key for secret in secrets if (key := signing_key(endpoint.verification, secret))]
    profile = _PROFILES[Verification(endpoint.verification)]
    return profile(Incoming(endpoint, keys, CaseInsensitiveMapping(headers), body, now.timestamp()))


def _standard(got: Incoming) -> Verified:
    given = [
        value
        for version, _, value in (
            part.partition(",") for part in got.header(STANDARD_SIGNATURE).split()
        )
        if version == "v1" and value
    ]
    if not given:
        raise WebhookRejected(401, STANDARD_SIGNATURE, "must read v1,<base64>")
    timestamp = _timestamp(got.header(STANDARD_TIMESTAMP), STANDARD_TIMESTAMP)
    delivery_id = got.headers.get(STANDARD_ID, "")
    if not delivery_id:
        raise WebhookRejected(400, STANDARD_ID, "the header is missing")
    signed = f"{delivery_id}.{timestamp}.".encode() + got.body
    got.check(STANDARD_SIGNATURE, signed, given, lambda digest: base64.b64encode(digest).decode())
    got.check_age(STANDARD_TIMESTAMP, timestamp)
    return Verified(delivery_id, STANDARD_ID)


def _legacy(got: Incoming) -> Verified:
    timestamp, given = _timestamped(got.header(LEGACY_HEADER), LEGACY_HEADER)
    got.check(LEGACY_HEADER, f"{timestamp}.".encode() + got.body, given, bytes.hex)
    got.check_age(LEGACY_HEADER, timestamp)
    delivery_id = got.headers.get(LEGACY_DELIVERY_HEADER, "")
    return Verified(delivery_id, LEGACY_DELIVERY_HEADER)


def _stripe(got: Incoming) -> Verified:
    timestamp, given = _timestamped(got.header("Stripe-Signature"), "Stripe-Signature")
    signed = f"{timestamp}.".encode() + got.body
    got.check("Stripe-Signature", signed, given, bytes.hex)
    got.check_age("Stripe-Signature", timestamp)
    # Stripe retries an event under a fresh signature; its id, in the signed body, stays.
    return Verified(None, "body.id", "id", _digest(signed))


def _github(got: Incoming) -> Verified:
    scheme, _, value = got.header("X-Hub-Signature-256").partition("=")
    if scheme != "sha256" or not value:
        raise WebhookRejected(401, "X-Hub-Signature-256", "must read sha256=<hex>")
    got.check("X-Hub-Signature-256", got.body, [value.lower()], bytes.hex)
    # GitHub signs neither a time nor the id (docs/webhooks.md says what that allows).
    return Verified(got.headers.get("X-GitHub-Delivery", ""), "X-GitHub-Delivery")


def _slack(got: Incoming) -> Verified:
    version, _, value = got.header("X-Slack-Signature").partition("=")
    if version != "v0" or not value:
        raise WebhookRejected(401, "X-Slack-Signature", "must read v0=<hex>")
    timestamp = _timestamp(got.header("X-Slack-Request-Timestamp"), "X-Slack-Request-Timestamp")
    signed = f"v0:{timestamp}:".encode() + got.body
    got.check("X-Slack-Signature", signed, [value.lower()], bytes.hex)
    got.check_age("X-Slack-Request-Timestamp", timestamp)
    return Verified(None, "body.event_id", "event_id", _digest(signed))


def _shared_secret(got: Incoming) -> Verified:
    name = got.endpoint.secret_header
    given = got.header(name).encode()
    matched = False
    for key in got.keys:
        matched |= hmac.compare_digest(key, given)
    if not matched:
        raise WebhookRejected(401, name, "the header is not the secret")
    # A sender that sends no id has identical bodies counted as one delivery.
    return Verified(got.headers.get(STANDARD_ID), STANDARD_ID, None, _digest(got.body))


_PROFILES: dict[Verification, Callable[[Incoming], Verified]] = {
    Verification.STANDARD: _standard,
    Verification.STEPWISE_LEGACY: _legacy,
    Verification.STRIPE: _stripe,
    Verification.GITHUB: _github,
    Verification.SLACK: _slack,
    Verification.SHARED_SECRET: _shared_secret,
}


def _timestamp(value: str, name: str) -> int:
    if not (value.isdigit() and len(value) <= 12):
        raise WebhookRejected(401, name, "must be unix seconds")
    return int(value)


def _timestamped(value: str, name: str) -> tuple[int, list[str]]:
    """(t, v1 signatures) from a `t=<unix seconds>,v1=<hex>,...` header (Stripe's form)."""
    timestamp: int | None = None
    given: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and item:
            given.append(item.strip().lower())
    if timestamp is None or not given:
        raise WebhookRejected(401, name, "must read t=<unix seconds>,v1=<hex>")
    return timestamp, given


def _digest(signed: bytes) -> str:
    return "sha256-" + hashlib.sha256(signed).hexdigest()[:48]
