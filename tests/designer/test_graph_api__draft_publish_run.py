"""A graph workflow made through the API: draft, validate, publish, run on a real worker, decide
its approval as the assignee; versions pin runs, diffs show what changed."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.models import GraphVersion, HumanTask, Run
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

APPROVAL = graph(
    [
        (
            "start",
            "trigger.manual",
            {
                "input_schema": {
                    "type": "object",
                    "required": ["amount"],
                    "properties": {"amount": {"type": "number"}},
                }
            },
        ),
        ("check", "logic.condition", {"expression": "input.amount > 1000"}),
        (
            "ask",
            "human.approval",
            {"title": "Expense of {{ input.amount }}", "assignees": {"users": ["manny"]}},
        ),
        ("auto", "flow.end", {"output": {"approved": True, "by": "policy"}}),
        (
            "yes",
            "flow.end",
            {"output": {"approved": True, "by": "{{ nodes.ask.output.decisions[0].user }}"}},
        ),
        ("no", "flow.end", {"output": {"approved": False}}),
    ],
    ["start>check", "check>false>auto", "check>true>ask", "ask>approved>yes", "ask>rejected>no"],
)


def bearer(make_user: Any, username: str, *roles: str) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user(username, *roles), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def people(make_user: Any) -> dict[str, dict[str, str]]:
    return {
        "designer": bearer(make_user, "dana", "designers"),
        "operator": bearer(make_user, "otto", "operators"),
        "manager": bearer(make_user, "manny", "approvers"),
        "stranger": bearer(make_user, "sam", "approvers"),
    }


def api(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    send = getattr(client, method)
    if body is None:
        return send(path, headers=headers)
    return send(path, body, content_type="application/json", headers=headers)


def test_design_publish_run_and_approve(client: Client, people: dict[str, Any]) -> None:
    designer, operator = people["designer"], people["operator"]
    created = api(client, "post", "/api/workflows", designer, {"slug": "spend", "title": "Spend"})
    assert created.status_code == 201, created.json()
    assert created.json()["problems"][0]["message"] == "the graph needs a trigger"
    saved = api(
        client,
        "put",
        "/api/workflows/spend/draft",
        designer,
        {"graph": APPROVAL, "revision": created.json()["revision"]},
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["problems"] == []
    stale = api(
        client,
        "put",
        "/api/workflows/spend/draft",
        designer,
        {"graph": APPROVAL, "revision": created.json()["revision"]},
    )
    assert stale.status_code == 409
    assert stale.json()["current_revision"] == saved.json()["revision"]

    assert (
        api(client, "post", "/api/workflows/spend/runs", operator, {"input": {}}).status_code == 404
    )
    published = api(client, "post", "/api/workflows/spend/publish", designer, {"note": "first"})
    assert published.status_code == 201, published.json()
    assert published.json()["number"] == 1

    refused = api(client, "post", "/api/workflows/spend/runs", operator, {"input": {"amount": "x"}})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("input.amount:")

    small = api(client, "post", "/api/workflows/spend/runs", operator, {"input": {"amount": 40}})
    assert small.status_code == 201, small.json()
    run = wait_for_status(Run.objects.get(pk=small.json()["id"]), "completed")
    assert run.output == {"approved": True, "by": "policy"}
    assert run.version == "v1"

    big = api(client, "post", "/api/workflows/spend/runs", operator, {"input": {"amount": 5000}})
    run = wait_for_status(Run.objects.get(pk=big.json()["id"]), "waiting")
    task = HumanTask.objects.get(run=run)
    assert task.title == "Expense of 5000"
    mine = api(client, "get", "/api/tasks", people["manager"]).json()
    assert [t["id"] for t in mine] == [task.pk]
    assert api(client, "get", "/api/tasks", people["stranger"]).json() == []
    forbidden = api(
        client, "post", f"/api/tasks/{task.pk}/decide", people["stranger"], {"decision": "approved"}
    )
    assert forbidden.status_code == 403
    bad = api(
        client, "post", f"/api/tasks/{task.pk}/decide", people["manager"], {"decision": "maybe"}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("decision:")
    decided = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/decide",
        people["manager"],
        {"decision": "approved", "comment": "fine"},
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "approved"
    run = wait_for_status(run, "completed")
    assert run.output == {"approved": True, "by": "manny"}
    again = api(
        client, "post", f"/api/tasks/{task.pk}/decide", people["manager"], {"decision": "rejected"}
    )
    assert again.status_code == 409

    detail = api(client, "get", f"/api/runs/{run.pk}", operator).json()
    assert [step["name"] for step in detail["steps"]][:3] == ["start", "check", "ask"]


def test_versions_pin_runs_and_diffs_name_changes(client: Client, people: dict[str, Any]) -> None:
    designer, operator = people["designer"], people["operator"]
    first = graph(
        [
            ("start", "trigger.manual"),
            ("pause", "flow.delay", {"duration": 1}),
            ("out", "flow.end", {"output": "one"}),
        ],
        ["start>pause", "pause>out"],
    )
    api(
        client, "post", "/api/workflows", designer, {"slug": "pinned", "title": "P", "graph": first}
    )
    api(client, "post", "/api/workflows/pinned/publish", designer, {"note": "v1"})
    started = api(client, "post", "/api/workflows/pinned/runs", operator, {"input": None}).json()
    second = graph(
        [("start", "trigger.manual"), ("out", "flow.end", {"output": "two"})], ["start>out"]
    )
    revision = api(client, "get", "/api/workflows/pinned/draft", designer).json()["revision"]
    api(
        client,
        "put",
        "/api/workflows/pinned/draft",
        designer,
        {"graph": second, "revision": revision},
    )
    assert api(client, "post", "/api/workflows/pinned/publish", designer, {}).json()["number"] == 2
    assert wait_for_status(Run.objects.get(pk=started["id"]), "completed").output == "one"
    later = api(client, "post", "/api/workflows/pinned/runs", operator, {"input": None}).json()
    assert wait_for_status(Run.objects.get(pk=later["id"]), "completed").output == "two"

    diff = api(client, "get", "/api/workflows/pinned/diff?from=1&to=2", operator).json()
    assert diff["nodes"]["removed"] == ["pause"]
    assert diff["nodes"]["changed"] == [{"id": "out", "keys": ["output", "position"]}]
    versions = api(client, "get", "/api/workflows/pinned/versions", operator).json()
    assert [(v["number"], v["note"], v["author"]) for v in versions] == [
        (2, "", "dana"),
        (1, "v1", "dana"),
    ]
    assert api(client, "get", "/api/workflows/pinned/versions/1", operator).json()["graph"] == first

    assert api(client, "delete", "/api/workflows/pinned", designer).status_code == 204
    assert GraphVersion.objects.filter(workflow="pinned", retired=True).count() == 2
    gone = api(client, "post", "/api/workflows/pinned/runs", operator, {"input": None})
    assert gone.status_code == 404


def test_cancelling_a_run_closes_its_open_task(client: Client, people: dict[str, Any]) -> None:
    designer, operator = people["designer"], people["operator"]
    api(
        client, "post", "/api/workflows", designer, {"slug": "ask", "title": "A", "graph": APPROVAL}
    )
    api(client, "post", "/api/workflows/ask/publish", designer, {})
    started = api(client, "post", "/api/workflows/ask/runs", operator, {"input": {"amount": 2000}})
    run = wait_for_status(Run.objects.get(pk=started.json()["id"]), "waiting")
    assert api(client, "post", f"/api/runs/{run.pk}/cancel", operator).status_code == 200
    task = HumanTask.objects.get(run=run)
    assert task.status == "cancelled"
    late = api(
        client, "post", f"/api/tasks/{task.pk}/decide", people["manager"], {"decision": "approved"}
    )
    assert late.status_code == 409
    assert api(client, "get", "/api/tasks", people["manager"]).json() == []


def test_a_run_starts_at_the_trigger_that_started_it(
    client: Client, people: dict[str, Any]
) -> None:
    designer, operator = people["designer"], people["operator"]
    two_ways = graph(
        [
            ("by-hand", "trigger.manual"),
            ("on-order", "trigger.event", {"event_types": ["Parcel.arrived"]}),
            ("manual-path", "flow.end", {"output": "started by hand"}),
            ("event-path", "flow.end", {"output": "{{ 'parcel ' + input.ref }}"}),
        ],
        ["by-hand>manual-path", "on-order>event-path"],
    )
    api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "two-ways", "title": "T", "graph": two_ways},
    )
    assert api(client, "post", "/api/workflows/two-ways/publish", designer, {}).status_code == 201
    # The designer may not start runs: the event trigger waits for the operator to activate it.
    activated = api(
        client, "post", "/api/workflows/two-ways/versions/1/activate-triggers", operator
    )
    assert activated.status_code == 200 and activated.json()["triggers_active"]
    delivered = api(
        client,
        "post",
        "/api/events",
        operator,
        {"type": "Parcel.arrived", "payload": {"ref": "p-1"}, "id": "parcel-1"},
    )
    assert delivered.status_code == 202, delivered.json()
    (started,) = delivered.json()["started_runs"]
    assert wait_for_status(Run.objects.get(pk=started), "completed").output == "parcel p-1"
    by_hand = api(client, "post", "/api/workflows/two-ways/runs", operator, {"input": {}}).json()
    assert (
        wait_for_status(Run.objects.get(pk=by_hand["id"]), "completed").output == "started by hand"
    )
