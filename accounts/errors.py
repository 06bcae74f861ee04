"""Our own error pages: 403 with the reason the server knows and whom to ask, 404, and a 500
page that needs neither the database nor the request (it may be what failed)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template import loader

MAX_CONTACTS = 3


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
