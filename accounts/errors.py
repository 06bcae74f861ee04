"""Our own error pages: 400 and 413 saying what was refused, 403 with the reason the server
knows and whom to ask, 404, and a 500 page that needs neither the database nor the request (it
may be what failed)."""

import json

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template import loader

from accounts.api_refusals import refusal

MAX_CONTACTS = 3
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PROGRAM_PREFIXES = ("/api/", "/hooks/")
"""Addresses programs call: their refusals are JSON (the API's shape), not pages."""


def admin_contacts() -> list[str]:
    """Whom to ask for a role: STEPWISE_ADMIN_CONTACT if set, else the active superusers."""
    configured: str = getattr(settings, "STEPWISE_ADMIN_CONTACT", "")
    if configured:
        return [configured]
    try:
        admins = User.objects.filter(is_superuser=True, is_active=True).order_by("username")
        found = list(admins[:MAX_CONTACTS])
    except DatabaseError:
        return []
    contacts = []
    for admin in found:
        name = admin.get_full_name() or admin.username
        contacts.append(f"{name} <{admin.email}>" if admin.email else name)
    return contacts


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception is not None and str(exception) else ""
    context = {
        "exception": reason,
        "contacts": admin_contacts() if request.user.is_authenticated else [],
    }
    return HttpResponse(loader.render_to_string("403.html", context, request), status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The form was older than the session or came from another site: say so, styled."""
    message = (
        "the form could not be accepted (its security token was missing or out of date): "
        "reload the page and try again"
    )
    return permission_denied(request, PermissionError(message))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"path": request.path}
    return HttpResponse(loader.render_to_string("404.html", context, request), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request and no context processors: the database or a processor may be what broke.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)


def refused(path: str, status: int, field: str | None, message: str) -> tuple[str, bytes]:
    """(content type, body) of a refusal as the address's callers read it: the API's JSON under
    /api/ and /hooks/, a page elsewhere. Needs no request: config/body_limit.py refuses bodies
    before Django has made one."""
    if path.startswith(PROGRAM_PREFIXES):
        return "application/json", json.dumps(refusal(field, message)).encode()
    too_large = status == 413
    context = {
        "title": "Too large to accept" if too_large else "The request could not be read",
        "detail": f"{field}: {message}" if field else message,
        "advice": "Go back and send less, or ask an administrator about the limit."
        if too_large
        else "Go back, reload the page and try again.",
    }
    return "text/html; charset=utf-8", loader.get_template("400.html").render(context).encode()


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (handler400), which it also answers for a body over its own limits.

    Those limits are part of the contract (config/settings.py), so the answer says which one:
    413 naming `body` for too many bytes, as config/body_limit.py answers above the same limit,
    400 naming `body` for too many form fields or files. Any other 400 (a host not allowed, a
    form that cannot be parsed) says no more than Django's own page. Under DEBUG Django shows
    its technical page instead of calling this.
    """
    status, field, message = 400, None, "the request could not be read"
    has_form = request.content_type in FORM_TYPES
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        status, field, message = 413, "body", f"larger than the limit of {limit} bytes"
    elif isinstance(exception, TooManyFieldsSent):
        fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        field = "body" if has_form else None
        message = f"more than {fields} fields" if has_form else f"more than {fields} parameters"
    elif isinstance(exception, TooManyFilesSent):
        field, message = "body", f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files"
    content_type, body = refused(request.path, status, field, message)
    return HttpResponse(body, status=status, content_type=content_type)
