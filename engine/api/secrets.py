"""Secret grants in the JSON API: which secrets a workflow may send, kept by administrators."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError
from accounts.roles import Capability
from engine.models import SecretGrant, SecretGrantEvent
from engine.outbound.grants import GrantInputError, grant_secret, revoke_secret

router = Router(tags=["secrets"])
HISTORY_LIMIT = 100


class GrantOut(Schema):
    name: str = Field(description="Sent as {{ secrets.NAME }}; read from STEPWISE_SECRET_<NAME>")
    note: str
    granted_by: str | None
    granted_at: datetime


class GrantEventOut(Schema):
    name: str
    action: str
    actor: str | None
    note: str
    at: datetime


class GrantsOut(Schema):
    grants: list[GrantOut]
    history: list[GrantEventOut] = Field(description="Newest first, at most 100")


class GrantIn(BodyIn):
    name: str = Field(max_length=100)
    note: str = Field(default="", max_length=300)


class RevokeIn(BodyIn):
    note: str = Field(default="", max_length=300)


def _administrator(request: HttpRequest, permission: str) -> User:
    """Granting decides what leaves the building: administrators only (the model permission
    in the admin's sense), never a role a designer could hold."""
    user = request.user
    if not isinstance(user, User) or not user.has_perm(f"engine.{permission}_secretgrant"):
        raise HttpError(403, "only an administrator grants or revokes secrets")
    return user


def _grants(slug: str) -> dict[str, Any]:
    grants = SecretGrant.objects.filter(workflow=slug).select_related("granted_by")
    events = SecretGrantEvent.objects.filter(workflow=slug).select_related("actor")
    return {
        "grants": [
            {
                "name": grant.name,
                "note": grant.note,
                "granted_by": grant.granted_by.username if grant.granted_by else None,
                "granted_at": grant.granted_at,
            }
            for grant in grants
        ],
        "history": [
            {
                "name": event.name,
                "action": event.action,
                "actor": event.actor.username if event.actor else None,
                "note": event.note,
                "at": event.at,
            }
            for event in events.order_by("-at", "-id")[:HISTORY_LIMIT]
        ],
    }


@router.get(
    "/workflows/{slug}/secrets",
    response=GrantsOut,
    summary="The secrets a workflow may send (names only, never values), and who changed that",
)
def list_grants(request: HttpRequest, slug: str) -> Any:
    require_capability(request, Capability.VIEW)
    return _grants(slug)


@router.post(
    "/workflows/{slug}/secrets",
    response={201: GrantsOut, 422: dict[str, Any]},
    summary="Grant a secret to a workflow (administrators; audited)",
)
def grant(request: HttpRequest, slug: str, body: GrantIn) -> Any:
    user = _administrator(request, "add")
    try:
        grant_secret(slug, body.name, user, body.note)
    except GrantInputError as error:
        raise FieldError(422, error.field, error.message) from None
    return Status(201, _grants(slug))


@router.delete(
    "/workflows/{slug}/secrets/{name}",
    response={200: GrantsOut, 404: dict[str, Any], 422: dict[str, Any]},
    summary="Revoke a secret from a workflow (administrators; audited): its next request fails",
)
def revoke(request: HttpRequest, slug: str, name: str, body: RevokeIn | None = None) -> Any:
    user = _administrator(request, "delete")
    try:
        revoked = revoke_secret(slug, name, user, body.note if body else "")
    except GrantInputError as error:
        raise FieldError(422, error.field, error.message) from None
    if not revoked:
        raise FieldError(404, "name", f"{slug!r} holds no grant for {name!r}")
    return Status(200, _grants(slug))
