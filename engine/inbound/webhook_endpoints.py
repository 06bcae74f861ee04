"""Webhook endpoints' settings and secrets: created, changed and rotated, each checked first."""

import base64
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.core.definitions import SLUG_PATTERN
from engine.core.expressions import ExpressionError
from engine.core.priority import priority_problem
from engine.core.templates import compile_template
from engine.core.triggers import event_type_problem
from engine.inbound.signatures import SECRET_PREFIX, signing_key
from engine.inbound.webhooks import WebhookError
from engine.models import Verification, WebhookEndpoint
from engine.runtime.resolving import UnknownWorkflow, resolve

MAX_BODY_LIMIT = 10_000_000
MAX_TOLERANCE = 86_400
DEFAULT_SECRET_HEADER = "X-Webhook-Secret"  # noqa: S105 (a header name, not a secret)
CHANGEABLE = frozenset(
    {
        "title",
        "active",
        "event_type",
        "workflow",
        "input",
        "priority",
        "tolerance_seconds",
        "max_body_bytes",
        "verification",
        "secret_header",
    }
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
# Headers that proxies and servers set, log or read themselves: never a place for a secret.
_RESERVED_HEADERS = frozenset(
    {"authorization", "cookie", "host", "content-length", "content-type", "transfer-encoding"}
)


def new_secret() -> str:
    """`whsec_` and a base64 key of 32 random bytes, the form Standard Webhooks libraries read.

    The other profiles key with the secret's text, so a secret made here serves every profile.
    """
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(verification: str, secret: str) -> str | None:
    """Why a secret cannot serve this profile, or None."""
    if not 16 <= len(secret) <= 200:
        return "from 16 to 200 characters"
    if signing_key(verification, secret) is None:
        return (
            "a Standard Webhooks secret is whsec_ and the base64 of a key of at least 16 "
            "bytes (rotate the secret to get one)"
        )
    return None


def rotate_secret(
    endpoint: WebhookEndpoint, overlap: float | timedelta = 86_400, secret: str | None = None
) -> str:
    """Give the endpoint a new secret and return it (to be shown once).

    The secret is made here unless the sender made its own (Stripe, Slack). The old secret
    stays valid for `overlap` (seconds or a timedelta), so senders can switch without a
    refused delivery; an overlap of 0 ends it at once.
    """
    seconds = overlap.total_seconds() if isinstance(overlap, timedelta) else float(overlap)
    if seconds < 0:
        raise WebhookError("overlap", "cannot be negative")
    if secret is not None and (problem := secret_problem(endpoint.verification, secret)):
        raise WebhookError("secret", problem)
    secret = secret or new_secret()
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
    priority: Any = 0,
    tolerance_seconds: Any = 300,
    max_body_bytes: Any = 1_000_000,
    verification: Any = Verification.STANDARD,
    secret_header: Any = DEFAULT_SECRET_HEADER,
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
    if (problem := priority_problem(priority)) is not None:
        problems.append(WebhookError("priority", problem))
    if not (isinstance(tolerance_seconds, int) and 1 <= tolerance_seconds <= MAX_TOLERANCE):
        problems.append(
            WebhookError("tolerance_seconds", f"a whole number from 1 to {MAX_TOLERANCE}")
        )
    if not (isinstance(max_body_bytes, int) and 1 <= max_body_bytes <= MAX_BODY_LIMIT):
        problems.append(
            WebhookError("max_body_bytes", f"a whole number from 1 to {MAX_BODY_LIMIT}")
        )
    if verification not in Verification.values:
        problems.append(WebhookError("verification", f"one of {', '.join(Verification.values)}"))
    if not (
        isinstance(secret_header, str)
        and _HEADER_NAME.match(secret_header)
        and secret_header.lower() not in _RESERVED_HEADERS
    ):
        problems.append(
            WebhookError(
                "secret_header",
                "a header name (letters, digits and hyphens) other than "
                + ", ".join(sorted(_RESERVED_HEADERS)),
            )
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
    priority: int = 0,
    tolerance_seconds: int = 300,
    max_body_bytes: int = 1_000_000,
    verification: str = Verification.STANDARD,
    secret_header: str = DEFAULT_SECRET_HEADER,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with a fresh secret (or the sender's own); returns it with the
    secret (to be shown once)."""
    problems = endpoint_problems(
        slug=slug,
        event_type=event_type,
        workflow=workflow,
        input=input,
        priority=priority,
        tolerance_seconds=tolerance_seconds,
        max_body_bytes=max_body_bytes,
        verification=verification,
        secret_header=secret_header,
    )
    if secret is not None and (problem := secret_problem(verification, secret)):
        problems.append(WebhookError("secret", problem))
    if problems:
        raise problems[0]
    secret = secret or new_secret()
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(
                slug=slug,
                title=title,
                secret=secret,
                event_type=event_type,
                workflow=workflow,
                input=input,
                priority=priority,
                tolerance_seconds=tolerance_seconds,
                max_body_bytes=max_body_bytes,
                verification=verification,
                secret_header=secret_header,
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise WebhookError("slug", f"an endpoint called {slug!r} exists already", 409) from None
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's settings (never its slug or secret), all checked first."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise WebhookError(sorted(unknown)[0], "cannot be changed here")
    merged = {field: changes.get(field, getattr(endpoint, field)) for field in CHANGEABLE}
    problems = endpoint_problems(
        **{key: value for key, value in merged.items() if key not in ("title", "active")}
    )
    if not problems and (problem := secret_problem(merged["verification"], endpoint.secret)):
        problems.append(WebhookError("verification", f"the endpoint's secret: {problem}"))
    if problems:
        raise problems[0]
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save(update_fields=sorted(changes))
    return endpoint
