"""A logged-in user without a role gets the 403 page on every page, as the API answers 403:
the test walks every URL pattern, so a new page is covered the day it is added."""

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

pytestmark = pytest.mark.django_db

# Open without a role: logging in and out, the health probe and webhook senders.
# /metrics answers Prometheus with its own token or address check (docs/dashboards.md).
OPEN = {"login", "logout", "health", "webhook", "metrics"}
# Sample values for each path converter; the role check comes before any lookup.
SAMPLES = {"int": "1", "slug": "some-workflow", "str": "some-token", "path": "a/b"}


def page_patterns(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(name, path) of every URL pattern outside the admin and the API."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route in {"admin/", "api/"}:
                continue  # the admin's own permissions; the API's 403 is tested with it
            yield from page_patterns(pattern.url_patterns, prefix + route)
        else:
            yield pattern.name or route, "/" + sample_path(prefix + route)


def sample_path(route: str) -> str:
    for converter, value in SAMPLES.items():
        while f"<{converter}:" in route:
            start = route.index(f"<{converter}:")
            route = route[:start] + value + route[route.index(">", start) + 1 :]
    # A regular-expression route: each named group becomes a sample word.
    return re.sub(r"\(\?P<\w+>[^)]*\)", "x", route).strip("^$").replace("?", "")


PAGES = sorted(page_patterns())


def test_the_walk_finds_the_pages_and_only_the_known_ones_are_open() -> None:
    names = {name for name, _ in PAGES}
    assert {"home", "runs", "run-detail", "designer", "designer-canvas", "inbox"} <= names
    # Whoever marks a page open to everyone (login_not_required, role_not_required) adds it
    # to OPEN, here, on purpose.
    marked_open = {
        name
        for name, path in PAGES
        if not getattr(resolve(path).func, "login_required", True)
        or not getattr(resolve(path).func, "role_required", True)
    }
    assert marked_open == OPEN


@pytest.mark.parametrize(("name", "path"), [page for page in PAGES if page[0] not in OPEN])
def test_a_user_without_a_role_gets_the_403_page(make_user, name: str, path: str) -> None:
    client = Client()
    client.force_login(make_user("nora"))
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 403, f"{method.__name__.upper()} {path} ({name})"
    assert "has no role yet" in client.get(path).content.decode()


def test_a_user_without_a_role_can_still_log_out(make_user) -> None:
    client = Client()
    client.force_login(make_user("nora"))
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/", "/runs/", "/designer/", "/inbox/"])
def test_any_role_opens_the_pages(make_user, path: str) -> None:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    assert client.get(path).status_code == 200


def test_staff_without_a_role_keep_the_admin(make_user) -> None:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=False))
    assert client.get("/admin/").status_code == 200
    assert client.get("/").status_code == 403
