"""Editing graph workflows through the API: every bad body is a 4xx naming the field and changes
nothing; validation lists every problem; templates, export/import and the node library."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.models import Workflow
from engine.models import GraphVersion
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

VALID = graph(
    [("start", "trigger.manual"), ("greet", "flow.transform", {"output": "Hi ${who}"})],
    ["start>greet"],
)


@pytest.fixture
def as_role(make_user: Any) -> Any:
    def headers(role: str) -> dict[str, str]:
        _, raw = ApiToken.issue(make_user(f"u-{role}", role), "ci")
        return {"Authorization": f"Bearer {raw}"}

    return headers


@pytest.fixture
def designer(as_role: Any) -> dict[str, str]:
    return as_role("designers")


def send(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return getattr(client, method)(path, body, content_type="application/json", headers=headers)


def test_bad_creations_name_the_field_and_save_nothing(client: Client, designer: Any) -> None:
    cases = [
        ({"slug": "Bad Slug", "title": "x"}, 422, "slug"),
        ({"slug": "expense-approval", "title": "x"}, 409, "slug"),  # a code workflow
        ({"slug": "ok", "title": ""}, 422, "title"),
        ({"slug": "ok", "title": "x", "graph": {"nodes": "no"}}, 422, "graph"),
        ({"slug": "ok", "title": "x", "parameters": [{"name": "1x"}]}, 422, "parameters[0].name"),
    ]
    for body, status, field in cases:
        response = send(client, "post", "/api/workflows", designer, body)
        assert response.status_code == status, (body, response.json())
        assert response.json()["detail"].startswith(field), response.json()
    missing = send(client, "post", "/api/workflows", designer, {"slug": "ok"})
    assert missing.status_code == 422
    assert "title" in str(missing.json()["detail"])
    assert not Workflow.objects.exists()
    send(client, "post", "/api/workflows", designer, {"slug": "ok", "title": "x"})
    again = send(client, "post", "/api/workflows", designer, {"slug": "ok", "title": "y"})
    assert again.status_code == 409


def test_roles_decide_who_edits_and_who_publishes(client: Client, as_role: Any) -> None:
    viewer, designer = as_role("viewers"), as_role("designers")
    assert (
        send(client, "post", "/api/workflows", viewer, {"slug": "a", "title": "A"}).status_code
        == 403
    )
    send(client, "post", "/api/workflows", designer, {"slug": "a", "title": "A", "graph": VALID})
    operator = as_role("operators")
    assert send(client, "post", "/api/workflows/a/publish", operator, {}).status_code == 403
    assert client.get("/api/workflows/a").status_code == 401
    assert client.get("/api/workflows/a", headers=viewer).json()["kind"] == "graph"


def test_a_broken_draft_is_refused_and_an_invalid_one_is_saved_with_its_problems(
    client: Client, designer: Any
) -> None:
    created = send(client, "post", "/api/workflows", designer, {"slug": "d", "title": "D"}).json()
    broken = send(
        client,
        "put",
        "/api/workflows/d/draft",
        designer,
        {"graph": {"nodes": [{"id": "x"}], "edges": []}, "revision": created["revision"]},
    )
    assert broken.status_code == 422
    assert broken.json()["detail"].startswith("graph.nodes[0]")
    for revision in (True, "1", None):
        odd = send(
            client,
            "put",
            "/api/workflows/d/draft",
            designer,
            {"graph": VALID, "revision": revision},
        )
        assert odd.status_code == 422, revision
        assert "revision" in str(odd.json()["detail"])
    invalid = graph(
        [
            ("start", "trigger.manual"),
            ("check", "logic.condition", {"expression": "input.>"}),
            ("lost", "flow.transform", {"output": 1}),
        ],
        ["start>check", "check>maybe>start"],
    )
    saved = send(
        client,
        "put",
        "/api/workflows/d/draft",
        designer,
        {"graph": invalid, "revision": created["revision"]},
    )
    assert saved.status_code == 200
    assert saved.json()["revision"] == created["revision"] + 1
    problems = saved.json()["problems"]
    fields = {(p["node"], p["field"]) for p in problems}
    assert ("check", "config.expression") in fields
    assert any(p["node"] == "lost" for p in problems)
    assert len(problems) >= 3
    checked = send(client, "post", "/api/workflows/d/validate", designer, {}).json()
    assert checked["valid"] is False and checked["problems"] == problems
    assert send(client, "post", "/api/workflows/d/validate", designer, {"graph": VALID}).json() == {
        "valid": True,
        "problems": [],
    }
    refused = send(client, "post", "/api/workflows/d/publish", designer, {"note": "try"})
    assert refused.status_code == 422
    assert refused.json()["problems"] == problems
    assert not GraphVersion.objects.exists()


def test_patch_and_detail(client: Client, designer: Any) -> None:
    send(client, "post", "/api/workflows", designer, {"slug": "p", "title": "P"})
    patched = send(client, "patch", "/api/workflows/p", designer, {"title": "Renamed"})
    assert patched.json()["title"] == "Renamed"
    assert send(client, "patch", "/api/workflows/p", designer, {"title": " "}).status_code == 422
    assert (
        send(
            client, "patch", "/api/workflows/expense-approval", designer, {"title": "x"}
        ).status_code
        == 409
    )
    assert client.get("/api/workflows/p", headers=designer).json()["title"] == "Renamed"
    assert client.get("/api/workflows/nope/draft", headers=designer).status_code == 404


def test_a_template_makes_new_workflows_with_its_parameters_filled(
    client: Client, designer: Any
) -> None:
    send(
        client,
        "post",
        "/api/workflows",
        designer,
        {
            "slug": "greeter",
            "title": "Greeter for ${who}",
            "graph": VALID,
            "is_template": True,
            "parameters": [{"name": "who", "title": "Who"}],
        },
    )
    made = send(
        client,
        "post",
        "/api/workflows/greeter/instantiate",
        designer,
        {"slug": "greet-invoices", "title": "Invoices", "parameters": {"who": "Invoice"}},
    )
    assert made.status_code == 201, made.json()
    draft = client.get("/api/workflows/greet-invoices/draft", headers=designer).json()
    assert draft["graph"]["nodes"][1]["config"]["output"] == "Hi Invoice"
    assert draft["problems"] == []
    unknown = send(
        client,
        "post",
        "/api/workflows/greeter/instantiate",
        designer,
        {"slug": "g2", "title": "G", "parameters": {"what": 1}},
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "parameters.what"
    missing = send(
        client,
        "post",
        "/api/workflows/greeter/instantiate",
        designer,
        {"slug": "g2", "title": "G", "parameters": {}},
    )
    assert missing.status_code == 422 and missing.json()["field"] == "parameters.who"
    not_template = send(
        client,
        "post",
        "/api/workflows/greet-invoices/instantiate",
        designer,
        {"slug": "g3", "title": "G"},
    )
    assert not_template.status_code == 409
    assert not Workflow.objects.filter(slug__in=["g2", "g3"]).exists()


def test_export_then_import_under_another_slug(client: Client, designer: Any) -> None:
    send(client, "post", "/api/workflows", designer, {"slug": "orig", "title": "O", "graph": VALID})
    exported = client.get("/api/workflows/orig/export", headers=designer)
    assert exported["Content-Disposition"] == 'attachment; filename="orig.stepwise.json"'
    document = exported.json()
    assert document["format"] == "stepwise-workflow" and document["graph"] == VALID
    clash = send(client, "post", "/api/workflows/import", designer, {"document": document})
    assert clash.status_code == 409
    copied = send(
        client, "post", "/api/workflows/import", designer, {"document": document, "slug": "copy"}
    )
    assert copied.status_code == 201
    assert client.get("/api/workflows/copy/draft", headers=designer).json()["graph"] == VALID
    wrong = send(
        client,
        "post",
        "/api/workflows/import",
        designer,
        {"document": {"format": "other"}, "slug": "x"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "document.format"
    broken = send(
        client,
        "post",
        "/api/workflows/import",
        designer,
        {"document": {**document, "graph": {"edges": []}}, "slug": "x"},
    )
    assert broken.status_code == 422 and broken.json()["field"].startswith("document.graph")


def test_the_node_library_is_served_with_schemas_and_handles(client: Client, designer: Any) -> None:
    types = {t["type"]: t for t in client.get("/api/node-types", headers=designer).json()}
    expected = {
        "trigger.manual",
        "trigger.event",
        "trigger.schedule",
        "trigger.webhook",
        "action.python",
        "action.http",
        "action.email",
        "action.record",
        "action.emit",
        "action.ai",
        "logic.condition",
        "logic.switch",
        "logic.loop",
        "logic.parallel",
        "logic.join",
        "flow.delay",
        "flow.wait_event",
        "flow.subworkflow",
        "flow.set",
        "flow.transform",
        "flow.end",
        "human.approval",
        "human.review",
    }
    assert expected <= set(types)
    assert types["logic.condition"]["outputs"] == ["true", "false"]
    assert types["logic.switch"]["outputs"] is None  # its cases decide
    assert types["human.review"]["outputs"] == ["approved", "changes", "rejected", "timeout"]
    assert "retry" in types["action.http"]["config_schema"]["properties"]
    assert "retry" not in types["logic.condition"]["config_schema"]["properties"]
    assert next(iter(types.values()))["group"] == "triggers"


def test_bad_task_queries_are_refused(client: Client, designer: Any) -> None:
    assert client.get("/api/tasks?status=weird", headers=designer).status_code == 422
    assert client.get("/api/tasks", headers=designer).json() == []
    missing = send(client, "post", "/api/tasks/999/decide", designer, {"decision": "approved"})
    assert missing.status_code == 404


def test_a_template_passes_on_its_run_settings(client: Client, designer: Any) -> None:
    """A workflow made from a template runs as the template would: the same run timeout, and
    the same answer to whether a cancel undoes its steps."""
    made = send(
        client,
        "post",
        "/api/workflows",
        designer,
        {
            "slug": "approver",
            "title": "Approval for ${team}",
            "graph": VALID,
            "is_template": True,
            "parameters": [{"name": "team", "title": "Team"}],
            "compensate_on_cancel": False,
            "timeout_seconds": 432_000,
        },
    )
    assert made.status_code == 201, made.json()
    copied = send(
        client,
        "post",
        "/api/workflows/approver/instantiate",
        designer,
        {"slug": "approve-expenses", "title": "Expenses", "parameters": {"team": "Finance"}},
    )
    assert copied.status_code == 201, copied.json()
    body = client.get("/api/workflows/approve-expenses", headers=designer).json()
    assert (body["compensate_on_cancel"], body["timeout_seconds"]) == (False, 432_000)
