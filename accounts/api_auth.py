"""How the API knows who is calling: a personal bearer token or the session (with CSRF)."""

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from accounts.models import ApiToken
from accounts.roles import Capability, can


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        return found.user


API_AUTH = [BearerTokenAuth(), SessionAuth(csrf=True)]


def require_capability(request: HttpRequest, capability: Capability) -> None:
    """Answer 403 unless the caller's roles grant the capability."""
    if not can(request.user, capability):
        raise HttpError(403, f"your roles do not allow: {capability.value.replace('_', ' ')}")
