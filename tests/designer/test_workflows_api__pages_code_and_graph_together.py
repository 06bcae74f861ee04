"""GET /api/workflows answers code and graph workflows together by slug, a page at a time:
`limit` and `cursor` as GET /api/runs takes them, `X-Next-Cursor` and `Link: rel=next` while
more follow; following the links yields every workflow once, in order. Bad values: 422."""

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.drafts import create_workflow

pytestmark = pytest.mark.django_db


def _follow(client: Client, url: str, headers: dict[str, str]) -> tuple[list[dict], int]:
    listed: list[dict] = []
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        pages += 1
        listed += response.json()
        link = response.headers.get("Link", "")
        assert bool(link) == ("X-Next-Cursor" in response.headers)
        url = link.split(">")[0][1:] if link else ""
    return listed, pages


def test_pages_hold_every_workflow_once_in_slug_order(client: Client, make_user) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}
    for slug in ("aaa-first", "mmm-middle", "zzz-last"):
        create_workflow(slug=slug, title=slug, user=None)
    everything = client.get("/api/workflows?limit=500", headers=headers)
    assert "X-Next-Cursor" not in everything.headers
    whole = [(item["slug"], item["kind"]) for item in everything.json()]
    assert whole == sorted(whole)
    assert {"aaa-first", "zzz-last", "expense-approval"} <= {slug for slug, _ in whole}
    assert {kind for _, kind in whole} == {"code", "graph"}

    first = client.get("/api/workflows?limit=4", headers=headers)
    assert len(first.json()) == 4
    cursor = first.headers["X-Next-Cursor"]
    assert first.headers["Link"] == f'</api/workflows?limit=4&cursor={cursor}>; rel="next"'
    listed, pages = _follow(client, "/api/workflows?limit=4", headers)
    assert [(item["slug"], item["kind"]) for item in listed] == whole
    assert pages == -(-len(whole) // 4)
    # A filter stays on every page.
    graphs, _ = _follow(client, "/api/workflows?kind=graph&limit=2", headers)
    assert [item["slug"] for item in graphs] == ["aaa-first", "mmm-middle", "zzz-last"]
    # The default page is 100.
    assert len(client.get("/api/workflows", headers=headers).json()) == min(len(whole), 100)


def test_bad_paging_is_refused_naming_the_field(client: Client, make_user) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}
    for query, field in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=nonsense", "cursor"),
        ("cursor=WzFd", "cursor"),  # [1]: not a (slug, kind) pair
    ]:
        response = client.get(f"/api/workflows?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith(f"{field}:"), query
