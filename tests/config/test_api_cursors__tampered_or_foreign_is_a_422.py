"""Every API list that pages with a cursor (runs, a run's journal, workflows, tasks) answers a
cursor it did not give, edited, made up or taken from another list or another order, with a 422
naming the cursor parameter, never a 500 and never a page; its own cursors still work."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.core.cursors import encode_cursor

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
# Each list with a cursor of another list (or order) that has the same shape as its own.
LISTS = {
    "/api/runs?sort=-started": encode_cursor("tasks:-created", [NOW, 1]),
    "/api/runs/1/journal": encode_cursor("workflows", ["a", "b"]),
    "/api/workflows": encode_cursor("journal", [1]),
    "/api/tasks/search?sort=-created": encode_cursor("runs:-started", [NOW, 1]),
    "/api/tasks/search?sort=workflow": encode_cursor("tasks:-created", [NOW, 1]),
}


def forged(parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


@pytest.fixture
def viewer(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def _with_cursor(path: str, cursor: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}cursor={cursor}"


def _assert_refused(client: Client, path: str, cursor: str, headers: dict[str, str]) -> None:
    answer = client.get(_with_cursor(path, cursor), headers=headers)
    assert answer.status_code == 422, (path, cursor, answer.content)
    assert answer.json()["field"] == "cursor"
    # Too long for the parameter is said so; anything else is the codec's one refusal.
    assert answer.json()["detail"] in (
        "cursor: not a cursor this list gave",
        "cursor: at most 200 characters",
        "cursor: at most 500 characters",
    )


@pytest.mark.parametrize("path", LISTS)
def test_a_foreign_cursor_is_a_422_naming_it(client: Client, viewer: Any, path: str) -> None:
    _assert_refused(client, path, LISTS[path], viewer)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "W10",  # []
        forged(["journal", 2**63]),  # an id past PostgreSQL's bigint
        forged(["workflows", "a\u0000", "graph"]),  # text PostgreSQL cannot store
        forged(["tasks:workflow", "\ud800", 1]),
        forged(["runs:-started", "2026-12-06T09:30:00", 1]),  # a time without its offset
        forged(["tasks:-created", "2026-12-06T09:30:00", 1]),
        "W" * 2000,
    ],
)
def test_a_tampered_cursor_is_a_422_naming_it(
    client: Client, viewer: Any, path: str, cursor: str
) -> None:
    _assert_refused(client, path, cursor, viewer)


def test_a_list_s_own_cursor_edited_by_one_letter_is_refused(client: Client, viewer: Any) -> None:
    first = client.get("/api/workflows?limit=1", headers=viewer)
    cursor = first.headers["X-Next-Cursor"]
    assert (
        client.get(_with_cursor("/api/workflows?limit=1", cursor), headers=viewer).status_code
        == 200
    )
    edited = "X" + cursor[1:]  # the opening "[" becomes "_": no longer JSON
    _assert_refused(client, "/api/workflows?limit=1", edited, viewer)
    _assert_refused(client, "/api/tasks/search", cursor, viewer)


@pytest.mark.parametrize("page", ["/runs/?sort=-started", "/inbox/?sort=-created"])
def test_the_pages_that_page_with_these_cursors_refuse_them_too(
    client: Client, make_user: Any, page: str
) -> None:
    """The runs explorer and the inbox read the same cursors: a bad one shows the list from its
    start with a notice naming `cursor` (the inbox answered 500 before: it decoded mid-render)."""
    client.force_login(make_user("vera", "viewers"))
    answer = client.get(_with_cursor(page, forged(["tasks:due", "nope", 1])))
    assert answer.status_code == 422
    assert "cursor: not a cursor this list gave" in answer.content.decode()
