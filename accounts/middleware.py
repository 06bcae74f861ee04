"""Every page needs a logged-in user with a role; the API answers 401 and 403 itself."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from accounts.roles import Capability, can


def role_not_required[View: Callable[..., Any]](view: View) -> View:
    """Mark a page that a logged-in user without any role may still open (logging out)."""
    view.role_required = False  # type: ignore[attr-defined]
    return view


class PagesNeedLoginAndRoleMiddleware(LoginRequiredMiddleware):
    """Anonymous visitors are sent to the login page; a logged-in user whose roles grant
    nothing gets the 403 page, as the API answers 403: being able to log in is not a reason to
    read runs, workflows or tasks.

    One rule here rather than a check in each view, so a new page is covered without anyone
    remembering to. The admin keeps its own permissions; pages open without a login (the
    login page, /health, webhooks) and `role_not_required` ones need no role.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        # django-ninja authenticates API calls (session with CSRF, or a bearer token) and
        # answers 401 or 403; a redirect to the login page would mean nothing to an API client.
        if request.path_info.startswith("/api/"):
            return None
        if not request.user.is_authenticated:
            return super().process_view(request, view_func, view_args, view_kwargs)
        needs_role = getattr(view_func, "login_required", True) and getattr(
            view_func, "role_required", True
        )
        match = request.resolver_match
        if match is not None and "admin" in match.app_names:
            needs_role = False
        if needs_role and not can(request.user, Capability.VIEW):
            raise PermissionDenied(
                "your account has no role yet: ask an administrator for one "
                "(designer, operator, approver or viewer)"
            )
        return None
