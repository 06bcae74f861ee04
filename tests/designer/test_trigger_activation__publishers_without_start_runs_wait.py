"""Schedules and event triggers start runs, so publishing them needs the right to start runs: a
designer's version waits for an operator (the previous version's triggers stay in force), an
operator activates it through the API, and a version without triggers needs nobody."""

from typing import Any

import pytest

from accounts.models import ApiToken
from engine.models import EventTrigger, GraphVersion, Schedule
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


def every(seconds: int) -> dict[str, Any]:
    return graph(
        [
            ("tick", "trigger.schedule", {"interval": seconds}),
            ("paid", "trigger.event", {"event_types": ["Order.paid"]}),
            ("done", "flow.end", {"output": {}}),
        ],
        ["tick>done", "paid>done"],
    )


@pytest.fixture
def as_user(client: Any, make_user: Any) -> Any:
    def caller(name: str, *roles: str) -> Any:
        _, raw = ApiToken.issue(make_user(name, *roles), "ci")
        headers = {"Authorization": f"Bearer {raw}"}

        def call(method: str, path: str, body: Any = None) -> Any:
            return getattr(client, method)(
                path, body or {}, content_type="application/json", headers=headers
            )

        return call

    return caller


def publish(designer: Any, document: dict[str, Any]) -> dict[str, Any]:
    draft = designer("get", "/api/workflows/ticker/draft").json()
    saved = designer(
        "put", "/api/workflows/ticker/draft", {"graph": document, "revision": draft["revision"]}
    )
    assert saved.status_code == 200, saved.json()
    published = designer("post", "/api/workflows/ticker/publish")
    assert published.status_code == 201, published.json()
    return dict(published.json())


def in_force() -> tuple[list[int | None], list[str]]:
    schedules = Schedule.objects.filter(source="graph", workflow="ticker")
    events = EventTrigger.objects.filter(workflow="ticker")
    return (
        sorted(s.interval_seconds for s in schedules),
        sorted(t.event_type for t in events),
    )


def test_a_designers_triggers_wait_for_an_operator(as_user: Any) -> None:
    designer = as_user("dana", "designers")
    operator = as_user("olga", "operators")
    assert (
        designer("post", "/api/workflows", {"slug": "ticker", "title": "Ticker"}).status_code == 201
    )

    first = publish(designer, every(1))
    assert first["triggers_active"] is False
    assert in_force() == ([], [])  # nothing starts runs yet

    refused = designer("post", "/api/workflows/ticker/versions/1/activate-triggers")
    assert refused.status_code == 403 and "start runs" in refused.json()["detail"]
    activated = operator("post", "/api/workflows/ticker/versions/1/activate-triggers")
    assert activated.status_code == 200 and activated.json()["triggers_active"] is True
    assert in_force() == ([1], ["Order.paid"])
    version = GraphVersion.objects.get(workflow="ticker", number=1)
    assert version.triggers_activated_by is not None
    assert version.triggers_activated_by.username == "olga"

    # A new version by the designer waits too; v1's triggers stay in force meanwhile.
    second = publish(designer, every(3600))
    assert second["triggers_active"] is False
    assert in_force() == ([1], ["Order.paid"])
    listed = designer("get", "/api/workflows/ticker/versions").json()
    assert [(v["number"], v["triggers_active"]) for v in listed] == [(2, False), (1, True)]
    operator("post", "/api/workflows/ticker/versions/2/activate-triggers")
    assert in_force() == ([3600], ["Order.paid"])
    missing = operator("post", "/api/workflows/ticker/versions/9/activate-triggers")
    assert missing.status_code == 404


def test_a_publisher_who_starts_runs_or_a_graph_without_triggers_needs_nobody(
    as_user: Any,
) -> None:
    both = as_user("bo", "designers", "operators")
    assert both("post", "/api/workflows", {"slug": "ticker", "title": "Ticker"}).status_code == 201
    assert publish(both, every(60))["triggers_active"] is True
    assert in_force() == ([60], ["Order.paid"])

    designer = as_user("dana", "designers")
    manual = graph(
        [("start", "trigger.manual"), ("done", "flow.end", {"output": {}})], ["start>done"]
    )
    assert publish(designer, manual)["triggers_active"] is True
    assert in_force() == ([], [])  # dropping triggers starts nothing: it needs no one
