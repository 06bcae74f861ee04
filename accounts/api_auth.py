"""How the API knows who is calling: a personal bearer token or the session (with CSRF)."""

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.models import ApiToken
from accounts.roles import Capability, can


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        return found.user


class SessionAuth(NinjaSessionAuth):
    """The browser's session, whose unsafe requests must carry its CSRF token.

    django-ninja checks the token before it looks for a session, so a POST with no credentials
    at all (or only a wrong bearer token) was refused as a CSRF failure (403) instead of as
    unauthenticated (401). CSRF protects the credential a browser attaches by itself: without a
    logged-in session there is none to protect, and the caller is simply not authenticated.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


# The bearer token first: a request that carries a valid one needs no CSRF token.
API_AUTH = [BearerTokenAuth(), SessionAuth(csrf=True)]


def require_capability(request: HttpRequest, capability: Capability) -> None:
    """Answer 403 unless the caller's roles grant the capability."""
    if not can(request.user, capability):
        raise HttpError(403, f"your roles do not allow: {capability.value.replace('_', ' ')}")
