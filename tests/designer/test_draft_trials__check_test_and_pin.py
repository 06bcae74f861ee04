"""Designers try a draft before publishing: an expression check lists the scope and previews the
value, a node runs alone (asking first when it has side effects), pinned outputs feed the steps
after it, the people picker finds users and groups, and publishing an unchanged draft is a 409.
Viewers are refused everywhere, and bad bodies get errors naming the field."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.models import Workflow
from engine.models import Event, GraphVersion
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {"amount": {"type": "number", "description": "In euros"}},
}
DRAFT = graph(
    [
        ("start", "trigger.manual", {"input_schema": SCHEMA}),
        ("prep", "flow.set", {"values": {"limit": "{{ 1000 }}"}}),
        ("check", "logic.condition", {"expression": "input.amount > vars.limit"}),
        ("shape", "flow.transform", {"output": {"big": "{{ nodes.check.output }}"}}),
        (
            "tell",
            "action.emit",
            {"type": "Expense.checked", "payload": {"n": "{{ input.amount }}"}},
        ),
        ("ask", "human.approval", {"title": "Spend?", "assignees": {"users": ["dana"]}}),
        ("done", "flow.end"),
    ],
    [
        "start>prep",
        "prep>check",
        "check>true>shape",
        "check>false>done",
        "shape>tell",
        "tell>ask",
        "ask>approved>done",
        "ask>rejected>done",
    ],
)


def token(make_user: Any, username: str, *roles: str) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user(username, *roles), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def who(make_user: Any) -> dict[str, dict[str, str]]:
    return {
        "designer": token(make_user, "dana", "designers"),
        "viewer": token(make_user, "vic", "viewers"),
        "operator": token(make_user, "otto", "operators"),
    }


@pytest.fixture
def spend(client: Client, who: dict[str, Any]) -> Workflow:
    created = client.post(
        "/api/workflows",
        {"slug": "spend", "title": "Spend", "graph": DRAFT},
        content_type="application/json",
        headers=who["designer"],
    )
    assert created.status_code == 201, created.json()
    return Workflow.objects.get(slug="spend")


def call(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    send = getattr(client, method)
    if body is None:
        return send(path, headers=headers)
    return send(path, body, content_type="application/json", headers=headers)


def test_a_viewer_is_refused_every_trial_endpoint(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    """Each endpoint answers 403 with the reason to a viewer and changes nothing."""
    viewer = who["viewer"]
    base = "/api/workflows/spend/draft"
    for method, path, body in [
        ("post", f"{base}/expressions/check", {"node": "check", "expression": "1"}),
        ("post", f"{base}/test-run", {"input": {"amount": 5}}),
        ("post", f"{base}/nodes/check/test", {"input": {"amount": 5}}),
        ("get", f"{base}/pins", None),
        ("put", f"{base}/pins/start", {"output": {"amount": 5}}),
        ("delete", f"{base}/pins/start", None),
        ("get", "/api/people?q=d", None),
    ]:
        answer = call(client, method, path, viewer, body)
        assert answer.status_code == 403, (path, answer.content)
        assert "your roles do not allow: edit workflows" in answer.json()["detail"]
    spend.refresh_from_db()
    assert spend.pins == {} and spend.test_outputs == {}


def test_an_expression_check_gives_problems_scope_and_preview(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    """The scope lists typed input fields, vars set upstream and upstream nodes only."""
    path = "/api/workflows/spend/draft/expressions/check"
    answer = call(
        client,
        "post",
        path,
        who["designer"],
        {"node": "shape", "field": "config.output", "expression": "input.amount * 2",
         "sample": {"amount": 21}},
    )  # fmt: skip
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["problems"] == []
    assert body["preview"] == {"value": 42}
    scope = {entry["name"]: entry for entry in body["scope"]}
    assert scope["input.amount"]["type"] == "number"
    assert scope["input.amount"]["doc"] == "In euros"
    assert "vars.limit" in scope and "nodes.check.output" in scope
    assert "nodes.tell" not in scope and "nodes.shape" not in scope

    broken = call(
        client, "post", path, who["designer"], {"node": "check", "expression": "amount > 1000"}
    ).json()
    [problem] = broken["problems"]
    assert "undefined name 'amount'" in problem["message"] and problem["position"] == 0
    assert broken["preview"] is None  # nothing pinned or tested yet

    syntax = call(client, "post", path, who["designer"], {"node": "check", "expression": "1 +"})
    assert syntax.json()["problems"][0]["position"] is not None

    failing = call(
        client, "post", path, who["designer"],
        {"node": "check", "expression": "input.nope.x", "sample": {"input": {}}},
    ).json()  # fmt: skip
    assert "error" in failing["preview"]


def test_bad_expression_check_bodies_name_the_field(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    path = "/api/workflows/spend/draft/expressions/check"
    missing = call(client, "post", path, who["designer"], {"node": "nowhere", "expression": "1"})
    assert missing.status_code == 404 and missing.json()["field"] == "node"
    huge = call(client, "post", path, who["designer"], {"node": "check", "expression": "1" * 5000})
    assert huge.status_code == 422 and huge.json()["field"] == "expression"
    wrong = call(client, "post", path, who["designer"], {"node": "check", "expression": 5})
    assert wrong.status_code == 422 and "expression" in str(wrong.json())


def test_pins_feed_a_downstream_node_test(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    """With `check` pinned, `shape` runs alone on that output; unpinning removes it."""
    designer = who["designer"]
    pins = "/api/workflows/spend/draft/pins"
    pinned = call(client, "put", f"{pins}/check", designer, {"output": "pinned-answer"})
    assert pinned.status_code == 200 and pinned.json() == {"check": "pinned-answer"}
    assert call(client, "get", pins, designer).json() == {"check": "pinned-answer"}

    tested = call(
        client, "post", "/api/workflows/spend/draft/nodes/shape/test", designer, {"input": {}}
    )
    assert tested.status_code == 200, tested.json()
    assert tested.json()["output"] == {"big": "pinned-answer"}
    assert tested.json()["error"] is None and tested.json()["duration_ms"] >= 0
    spend.refresh_from_db()
    assert spend.test_outputs["shape"] == {"big": "pinned-answer"}
    assert spend.draft == DRAFT  # pins live beside the graph, never in it

    assert call(client, "delete", f"{pins}/check", designer).status_code == 204
    assert call(client, "get", pins, designer).json() == {}
    again = call(client, "delete", f"{pins}/check", designer)
    assert again.status_code == 404 and again.json()["field"] == "node"
    nowhere = call(client, "put", f"{pins}/ghost", designer, {"output": 1})
    assert nowhere.status_code == 404 and nowhere.json()["field"] == "node"
    huge = call(client, "put", f"{pins}/check", designer, {"output": "x" * 300_000})
    assert huge.status_code == 413 and huge.json()["field"] == "output"
    assert call(client, "get", pins, designer).json() == {}


def test_a_node_test_reads_the_upstream_test_output(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    """Testing prep, then check: check reads vars.limit from prep's last test output."""
    designer = who["designer"]
    nodes = "/api/workflows/spend/draft/nodes"
    prep = call(client, "post", f"{nodes}/prep/test", designer, {"input": {"amount": 5}})
    assert prep.json()["output"] == {"limit": 1000}
    big = call(client, "post", f"{nodes}/check/test", designer, {"input": {"amount": 5000}})
    assert big.json() == {**big.json(), "output": True, "error": None}
    small = call(client, "post", f"{nodes}/check/test", designer, {"input": {"amount": 5}})
    assert small.json()["output"] is False
    failed = call(client, "post", f"{nodes}/check/test", designer, {"input": {}})
    assert failed.status_code == 200 and "amount" in failed.json()["error"]


def test_side_effects_need_confirmation_and_human_steps_cannot_run_alone(
    client: Client, who: dict[str, Any], spend: Workflow
) -> None:
    """The emit step answers 409 until confirmed, then really emits; approvals are refused."""
    designer = who["designer"]
    nodes = "/api/workflows/spend/draft/nodes"
    asked = call(client, "post", f"{nodes}/tell/test", designer, {"input": {"amount": 7}})
    assert asked.status_code == 409
    assert asked.json()["needs_confirmation"] is True and asked.json()["message"]
    assert not Event.objects.filter(type="Expense.checked").exists()

    done = call(
        client, "post", f"{nodes}/tell/test", designer, {"input": {"amount": 7}, "confirm": True}
    )
    assert done.status_code == 200, done.json()
    assert done.json()["output"]["payload"] == {"n": 7}
    assert Event.objects.filter(type="Expense.checked").count() == 1

    human = call(client, "post", f"{nodes}/ask/test", designer, {"input": {}, "confirm": True})
    assert human.status_code == 422 and "cannot be tested alone" in human.json()["detail"]
    bad = call(client, "post", f"{nodes}/tell/test", designer, {"confirm": "yes"})
    assert bad.status_code == 422


def test_people_search_finds_users_and_groups(
    client: Client, who: dict[str, Any], make_user: Any
) -> None:
    """Designers (and operators, who reassign tasks) search by name; at most 20 answers."""
    make_user("approver", "approvers", first_name="Ada", last_name="Price")
    for number in range(25):
        make_user(f"bulk{number:02}")
    found = call(client, "get", "/api/people?q=appro", who["designer"]).json()
    assert found[0] == {"kind": "user", "name": "approver", "label": "Ada Price (approver)"}
    assert {"kind": "group", "name": "approvers", "label": "approvers (group)"} in found
    by_name = call(client, "get", "/api/people?q=price", who["operator"]).json()
    assert [person["name"] for person in by_name] == ["approver"]
    assert len(call(client, "get", "/api/people?q=bulk", who["designer"]).json()) == 20
    long = call(client, "get", "/api/people?q=" + "x" * 101, who["designer"])
    assert long.status_code == 422 and long.json()["detail"].startswith("q:")


def test_publishing_an_unchanged_draft_is_a_409(
    client: Client, who: dict[str, Any], make_user: Any
) -> None:
    """The second publish of the same draft creates no version and says which it equals."""
    designer = who["designer"]
    simple = graph([("start", "trigger.manual"), ("done", "flow.end")], ["start>done"])
    call(client, "post", "/api/workflows", designer, {"slug": "s", "title": "S", "graph": simple})
    first = call(client, "post", "/api/workflows/s/publish", designer, {"note": "one"})
    assert first.status_code == 201, first.json()
    again = call(client, "post", "/api/workflows/s/publish", designer, {"note": "two"})
    assert again.status_code == 409
    assert again.json()["message"] == "nothing to publish: the draft equals version 1"
    assert GraphVersion.objects.filter(workflow="s").count() == 1
    call(client, "patch", "/api/workflows/s", designer, {"title": "S2"})
    assert call(client, "post", "/api/workflows/s/publish", designer, {}).status_code == 201
