"""Login throttling: after too many failed logins for one username or from one address within
a window, the login pages refuse (429) without checking the password.

A small limiter on Django's cache rather than django-axes: no new dependency, no tables, and
production's cache is already Redis, shared by every web process. A success clears the
username's count but not the address's, or one valid account would let an address guess on.
"""

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

# Django's login page and the admin's: both end in the same password check.
LOGIN_VIEWS = {"login", "admin:login"}

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The address that sent the request; behind a declared proxy, the one it saw connect."""
    if settings.STEPWISE_BEHIND_TLS_PROXY:
        # The proxy appends the address it accepted the connection from; entries to its left
        # are whatever the client claimed.
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return str(request.META.get("REMOTE_ADDR", ""))


def _counters(username: str, address: str) -> list[tuple[str, int]]:
    """The cache keys that count failures, each with its limit."""
    counters = []
    if username:
        # Hashed: a username may hold any character, a cache key may not.
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        counters.append((f"login-failures:user:{digest}", settings.STEPWISE_LOGIN_FAILURE_LIMIT))
    if address:
        counters.append(
            (f"login-failures:address:{address}", settings.STEPWISE_LOGIN_FAILURE_LIMIT_PER_ADDRESS)
        )
    return counters


def is_throttled(username: str, address: str) -> bool:
    counters = _counters(username, address)
    try:
        counts = cache.get_many([key for key, _ in counters])
    except Exception:
        # The cache is down: people still log in (every password is still checked) rather than
        # nobody at all; the outage shows in /health and this warning.
        logger.warning("login throttle: the cache cannot be read; not throttling", exc_info=True)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in counters)


def record_failure(username: str, address: str) -> None:
    window = settings.STEPWISE_LOGIN_FAILURE_WINDOW_SECONDS
    try:
        for key, _ in _counters(username, address):
            # The window starts at the first failure; incrementing keeps the key's expiry.
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:  # expired between the two calls: a new window opens
                cache.add(key, 1, timeout=window)
    except Exception:
        logger.warning("login throttle: the cache cannot count a failure", exc_info=True)


def forget_failures(username: str) -> None:
    try:
        cache.delete_many([key for key, _ in _counters(username, "")])
    except Exception:
        logger.warning("login throttle: the cache cannot clear a user's failures", exc_info=True)


@receiver(user_login_failed, dispatch_uid="stepwise-login-failed")
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    address = client_address(request) if request is not None else ""
    record_failure(str(credentials.get("username", "")), address)


@receiver(user_logged_in, dispatch_uid="stepwise-logged-in")
def _clear_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    forget_failures(user.get_username())


class LoginThrottleMiddleware(MiddlewareMixin):
    """Answers a login attempt 429 while its username or address is throttled, before the
    login view checks any password."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEWS:
            return None
        username = request.POST.get("username", "")
        if not is_throttled(username, client_address(request)):
            return None
        window = settings.STEPWISE_LOGIN_FAILURE_WINDOW_SECONDS
        context = {"minutes": max(1, round(window / 60))}
        response = render(request, "registration/login_throttled.html", context, status=429)
        response["Retry-After"] = str(window)
        return response
