"""The JSON API at /api/: every endpoint needs a bearer token or a session with CSRF."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from config.accounts.api import router as accounts_router
from config.accounts.api_auth import API_AUTH
from designer.api import router as designer_router
from engine.api import router as engine_router

api = NinjaAPI(
    title="Stepwise API",
    version="1",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("", accounts_router)
api.add_router("", engine_router)
api.add_router("", designer_router)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)
