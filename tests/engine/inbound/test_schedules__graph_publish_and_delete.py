"""Publishing a graph makes each `trigger.schedule` node a schedule (source graph, key
"slug:node"); publishing again updates changed ones, removes removed ones and keeps an operator's
pause; deleting the workflow removes its schedules; a bad cron in a node is explained and
refuses the publish."""

from typing import Any

import pytest

from accounts.models import ApiToken
from engine.inbound.schedules import pause
from engine.models import Schedule
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


def two_schedules(cron: str = "0 9 * * 1-5", with_interval: bool = True) -> dict[str, Any]:
    nodes: list[tuple[Any, ...]] = [
        ("morning", "trigger.schedule", {"cron": cron, "timezone": "Europe/Berlin"}),
        ("done", "flow.end", {"output": {"ok": True}}),
    ]
    edges = ["morning>done"]
    if with_interval:
        nodes.append(("often", "trigger.schedule", {"interval": 900, "input": {"n": 1}}))
        edges.append("often>done")
    return graph(nodes, edges)


@pytest.fixture
def designer(client: Any, make_user: Any) -> Any:
    """A designer who also operates: their schedules start runs as soon as they publish."""
    _, raw = ApiToken.issue(make_user("dana", "designers", "operators"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        return getattr(client, method)(
            path, body or {}, content_type="application/json", headers=headers
        )

    return call


def keys() -> dict[str, Schedule]:
    return {s.source_key: s for s in Schedule.objects.filter(source="graph")}


def test_publish_update_and_delete_keep_schedules_in_step(designer: Any) -> None:
    created = designer("post", "/api/workflows", {"slug": "tick", "title": "Tick"})
    revision = created.json()["revision"]
    saved = designer(
        "put", "/api/workflows/tick/draft", {"graph": two_schedules(), "revision": revision}
    )
    assert saved.status_code == 200, saved.json()
    assert keys() == {}  # a draft starts nothing
    assert designer("post", "/api/workflows/tick/publish").status_code == 201

    schedules = keys()
    assert set(schedules) == {"tick:morning", "tick:often"}
    morning, often = schedules["tick:morning"], schedules["tick:often"]
    assert (morning.cron, morning.timezone, morning.workflow) == (
        "0 9 * * 1-5",
        "Europe/Berlin",
        "tick",
    )
    assert (often.interval_seconds, often.input, often.timezone) == (900, {"n": 1}, "UTC")
    assert morning.name == "Tick: morning"
    assert morning.next_fire_at is not None and not morning.paused
    pause(often)

    changed = two_schedules(cron="30 8 * * *")
    designer("put", "/api/workflows/tick/draft", {"graph": changed, "revision": revision + 1})
    assert designer("post", "/api/workflows/tick/publish").status_code == 201
    schedules = keys()
    assert schedules["tick:morning"].cron == "30 8 * * *"
    assert schedules["tick:morning"].next_fire_at != morning.next_fire_at
    assert schedules["tick:often"].paused  # the operator's pause survives a new version

    designer(
        "put",
        "/api/workflows/tick/draft",
        {"graph": two_schedules(with_interval=False), "revision": revision + 2},
    )
    assert designer("post", "/api/workflows/tick/publish").status_code == 201
    assert set(keys()) == {"tick:morning"}

    assert designer("delete", "/api/workflows/tick").status_code == 204
    assert keys() == {}


def test_a_bad_cron_in_a_node_is_explained_and_nothing_is_published(designer: Any) -> None:
    bad = two_schedules(cron="61 9 * * *")
    created = designer("post", "/api/workflows", {"slug": "bad-tick", "title": "Bad", "graph": bad})
    problems = created.json()["problems"]
    assert {
        "node": "morning",
        "field": "config.cron",
        "message": "minute field: 61 is out of range 0\N{EN DASH}59",
    } in [{key: problem[key] for key in ("node", "field", "message")} for problem in problems]
    refused = designer("post", "/api/workflows/bad-tick/publish")
    assert refused.status_code == 422
    assert not Schedule.objects.filter(workflow="bad-tick").exists()
