"""Branches of a logic.parallel wait together: two event waits on two branches run their
timeouts at the same time, and two sub-workflows on two branches run at the same time."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import ApiToken
from engine.models import Run
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def operator() -> dict[str, str]:
    user = User.objects.create(username="nadia")
    user.groups.set([Group.objects.get_or_create(name=n)[0] for n in ("designers", "operators")])
    _, raw = ApiToken.issue(user, "ci")
    return {"Authorization": f"Bearer {raw}"}


def run_graph(client: Client, headers: dict[str, str], slug: str, document: dict[str, Any]) -> Run:
    created = api(
        client, "post", "/api/workflows", headers, {"slug": slug, "title": slug, "graph": document}
    )
    assert created.json()["problems"] == [], created.json()
    assert api(client, "post", f"/api/workflows/{slug}/publish", headers, {}).status_code == 201
    started = api(client, "post", f"/api/workflows/{slug}/runs", headers, {"input": {}})
    return wait_for_status(Run.objects.get(pk=started.json()["id"]), "completed")


def two_branches(node_type: str, config_a: dict[str, Any], config_b: dict[str, Any]) -> Any:
    return graph(
        [
            ("start", "trigger.manual"),
            ("fork", "logic.parallel"),
            ("a", node_type, config_a),
            ("b", node_type, config_b),
            ("both", "logic.join"),
            ("out", "flow.end", {"output": "done"}),
        ],
        ["start>fork", "fork>a", "fork>b", "a>both", "b>both", "both>out"],
    )


def test_event_waits_on_two_branches_time_out_together(
    client: Client, operator: dict[str, str]
) -> None:
    document = two_branches(
        "flow.wait_event",
        {"event_types": "Never.a", "timeout": 1},
        {"event_types": "Never.b", "timeout": 1},
    )
    for edge in document["edges"]:
        if edge["target"] == "both":
            edge["handle"] = "timeout"
    run = run_graph(client, operator, "together-waits", document)
    a, b = run.steps.get(name="a:wait"), run.steps.get(name="b:wait")
    assert a.finished_at is not None
    assert b.started_at < a.finished_at, "b began waiting only after a's wait was over"


def test_sub_workflows_on_two_branches_run_together(
    client: Client, operator: dict[str, str]
) -> None:
    child = graph(
        [
            ("start", "trigger.manual"),
            ("pause", "flow.delay", {"duration": 1}),
            ("out", "flow.end", {"output": 1}),
        ],
        ["start>pause", "pause>out"],
    )
    run_graph(client, operator, "together-child", child)
    document = two_branches(
        "flow.subworkflow", {"workflow": "together-child"}, {"workflow": "together-child"}
    )
    run = run_graph(client, operator, "together-children", document)
    first, second = Run.objects.filter(parent=run).order_by("pk")
    assert first.finished_at is not None and second.started_at is not None
    assert second.started_at < first.finished_at, "the second child started after the first ended"
