"""The JSON API at /api/: every endpoint needs a bearer token or a session with CSRF."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from accounts.api import router as accounts_router
from accounts.api_auth import API_AUTH
from accounts.api_refusals import FieldError, refusal
from config.api_docs import LocalSwagger
from designer.api import router as designer_router
from designer.api_machines import router as machines_router
from designer.api_trials import router as trials_router
from designer.drafts import DesignerError
from engine.api import router as engine_router
from engine.human import TaskError
from engine.runtime.run_search import RunQueryError
from monitoring.api import router as monitoring_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Stepwise API",
    version="1",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    docs=LocalSwagger(),
)
api.add_router("", accounts_router)
api.add_router("", engine_router)
api.add_router("", designer_router)
api.add_router("", machines_router)
api.add_router("", trials_router)
api.add_router("", monitoring_router)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, refusal(None, str(exc) or "forbidden"), status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # django-ninja's own answer would lack `field`; no endpoint raises it on purpose.
    return api.create_response(request, refusal(None, "Not Found"), status=404)


@api.exception_handler(InterfaceError)
@api.exception_handler(OperationalError)
def database_unavailable(
    request: HttpRequest, exc: OperationalError | InterfaceError
) -> HttpResponse:
    # PostgreSQL restarting or unreachable (or a deadlock it broke): the client should try
    # again, which an idempotency key makes safe for a start; a 500 would say it is our bug.
    # A connection that died after the commit surfaces as InterfaceError on the next read.
    logger.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
    body = refusal(None, "database: unavailable for a moment, try again")
    response = api.create_response(request, body, status=503)
    response["Retry-After"] = "2"
    return response


@api.exception_handler(DesignerError)
def designer_error(request: HttpRequest, exc: DesignerError) -> HttpResponse:
    body = refusal(exc.field, exc.message, **exc.extra)
    if exc.problems:
        body["problems"] = [problem.as_dict() for problem in exc.problems]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(TaskError)
def task_error(request: HttpRequest, exc: TaskError) -> HttpResponse:
    return api.create_response(request, refusal(exc.field, exc.message), status=exc.status)


@api.exception_handler(RunQueryError)
def run_query_error(request: HttpRequest, exc: RunQueryError) -> HttpResponse:
    return api.create_response(request, refusal(exc.field, exc.message), status=422)


UNPARSED_BODY = "Cannot parse request body"
"""django-ninja's message for a body that is not JSON; it names no field."""


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, FieldError):
        body = refusal(exc.field, exc.reason)
    elif exc.status_code == 400 and str(exc).startswith(UNPARSED_BODY):
        body = refusal("body", "not valid JSON")
    else:
        # Raised without a field: a refusal about the caller (401, 403, django-ninja's 429).
        body = refusal(None, str(exc))
    response = api.create_response(request, body, status=exc.status_code)
    if exc.status_code == 401:
        # RFC 9110: a 401 names the scheme that would do; a browser's session is the other.
        response["WWW-Authenticate"] = 'Bearer realm="stepwise"'
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """django-ninja's list, plus the first field it names, as every other 4xx has."""
    field = _field_of(exc.errors[0]) if exc.errors else None
    return api.create_response(request, refusal(field, exc.errors), status=422)


def _field_of(error: dict[str, Any]) -> str | None:
    # ["body", "<argument>", "graph", "nodes", 0] names graph.nodes.0; ["query", "limit"] limit.
    loc = [str(part) for part in error.get("loc") or []]
    if loc[:1] == ["body"] and len(loc) > 2:
        return ".".join(loc[2:])
    return loc[1] if len(loc) > 1 else (loc[0] if loc else None)


@csrf_exempt  # it changes nothing; a POST without a token deserves the same 404
def no_such_endpoint(request: HttpRequest) -> JsonResponse:
    """An address under /api/ that no endpoint answers: JSON, like the API, not the 404 page.

    Path parameters that no route accepts (a delivery id with a line break) end here too."""
    message = f"no API endpoint answers {request.method} {request.path}"
    return JsonResponse(refusal("path", message), status=404)
