"""Designing a state machine through the API: create, save drafts (a stale revision is a 409),
validate, publish immutable versions, diff them and delete; bad bodies name the field and change
nothing, and only designers edit and publish."""

import copy
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.demo_machines.order import ORDER_MACHINE
from designer.models import Machine
from engine.machines.publishing import publish_machine
from engine.models import MachineVersion

pytestmark = pytest.mark.django_db


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


def order() -> dict[str, Any]:
    return copy.deepcopy(ORDER_MACHINE.definition)


def create_order(client: Client, headers: dict[str, str]) -> None:
    """The order machine as the draft of machine `m`."""
    body = {"slug": "m", "title": "M", "definition": order()}
    assert send(client, "post", "/api/machines", headers, body).status_code == 201


def test_create_save_publish_and_read_versions(client: Client, designer: Any) -> None:
    created = send(client, "post", "/api/machines", designer, {"slug": "order", "title": "Order"})
    assert created.status_code == 201, created.json()
    assert created.json()["revision"] == 1
    assert created.json()["published_version"] is None
    assert {p["field"] for p in created.json()["problems"]} >= {"states", "initial"}

    refused = send(client, "post", "/api/machines/order/publish", designer, {"note": "empty"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "draft" and refused.json()["problems"]
    assert not MachineVersion.objects.exists()

    saved = send(
        client, "put", "/api/machines/order/draft", designer, {"definition": order(), "revision": 1}
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json() == {"definition": order(), "revision": 2, "problems": []}

    published = send(client, "post", "/api/machines/order/publish", designer, {"note": "first"})
    assert published.status_code == 201, published.json()
    assert published.json()["number"] == 1 and published.json()["note"] == "first"
    assert published.json()["author"] == "u-designers"

    listed = send(client, "get", "/api/machines", designer).json()
    assert [(m["slug"], m["published_version"], m["revision"]) for m in listed] == [("order", 1, 2)]
    assert send(client, "get", "/api/machines/order", designer).json()["published_version"] == 1
    versions = send(client, "get", "/api/machines/order/versions", designer).json()
    assert [v["number"] for v in versions] == [1]
    detail = send(client, "get", "/api/machines/order/versions/1", designer).json()
    assert detail["definition"] == order()
    missing = send(client, "get", "/api/machines/order/versions/7", designer)
    assert missing.status_code == 404
    assert send(client, "get", "/api/machines/nope", designer).status_code == 404


def test_validate_lists_every_problem_of_the_draft_or_of_a_posted_definition(
    client: Client, designer: Any
) -> None:
    create_order(client, designer)
    assert send(client, "post", "/api/machines/m/validate", designer).json() == {
        "valid": True,
        "problems": [],
    }
    broken = order()
    broken["transitions"][0]["target"] = "nowhere"
    broken["transitions"][1]["actions"][0]["config"]["action"] = "no.such-action"
    broken["transitions"] = [t for t in broken["transitions"] if t["id"] != "failed-retry"]
    answer = send(client, "post", "/api/machines/m/validate", designer, {"definition": broken})
    assert answer.json()["valid"] is False
    where = {(p["node"], p["field"]) for p in answer.json()["problems"]}
    assert ("draft-submit", "target") in where
    assert ("pending-pay", "actions[0].config.action") in where
    # The draft itself is untouched by validating something else.
    assert Machine.objects.get(slug="m").draft == order()


def test_a_stale_revision_is_refused_with_the_current_one(client: Client, designer: Any) -> None:
    create_order(client, designer)
    first = send(
        client, "put", "/api/machines/m/draft", designer, {"definition": order(), "revision": 1}
    )
    assert first.status_code == 200
    stale = send(
        client,
        "put",
        "/api/machines/m/draft",
        designer,
        {"definition": {"states": []}, "revision": 1},
    )
    assert stale.status_code == 409
    assert stale.json()["field"] == "revision" and stale.json()["current_revision"] == 2
    assert Machine.objects.get(slug="m").draft == order()


def test_bad_bodies_name_the_field_and_change_nothing(client: Client, designer: Any) -> None:
    cases = [
        ("post", "/api/machines", {"slug": "Bad Slug", "title": "x"}, 422, "slug"),
        ("post", "/api/machines", {"slug": "ok", "title": ""}, 422, "title"),
        (
            "post",
            "/api/machines",
            {"slug": "ok", "title": "x", "definition": {"states": "no"}},
            422,
            "definition.states",
        ),
    ]
    for method, path, body, status, field in cases:
        response = send(client, method, path, designer, body)
        assert response.status_code == status, (body, response.json())
        assert response.json()["detail"].startswith(field), response.json()
    assert not Machine.objects.exists()

    send(client, "post", "/api/machines", designer, {"slug": "ok", "title": "x"})
    again = send(client, "post", "/api/machines", designer, {"slug": "ok", "title": "y"})
    assert again.status_code == 409 and again.json()["field"] == "slug"
    for body, field in [
        ({"definition": {"transitions": [1]}, "revision": 1}, "definition.transitions"),
        ({"definition": order(), "revision": "1"}, "revision"),
    ]:
        response = send(client, "put", "/api/machines/ok/draft", designer, body)
        assert response.status_code == 422, response.json()
        assert field in str(response.json()["detail"])
    diff = send(client, "get", "/api/machines/ok/diff?from=one&to=draft", designer)
    assert diff.status_code == 422 and diff.json()["field"] == "from"
    assert send(client, "get", "/api/machines/ok/diff?from=3&to=draft", designer).status_code == 404
    machine = Machine.objects.get(slug="ok")
    assert machine.revision == 1 and machine.title == "x"

    # Versions the designer did not publish (another tool's) keep their slug.
    publish_machine("foreign", "Foreign", order())
    taken = send(client, "post", "/api/machines", designer, {"slug": "foreign", "title": "F"})
    assert taken.status_code == 409 and "does not own" in taken.json()["detail"]


def test_diff_names_states_and_transitions_added_removed_and_changed(
    client: Client, designer: Any
) -> None:
    create_order(client, designer)
    send(client, "post", "/api/machines/m/publish", designer, {})
    changed = order()
    changed["states"] = [s for s in changed["states"] if s["id"] != "returned"]
    changed["states"].append({"id": "archived", "final": True})
    changed["transitions"][-2]["target"] = "archived"  # completed-return
    changed["transitions"][-2]["guard"] = "true"
    changed["states"][0]["label"] = "Basket"
    changed["context"] = {"items": []}
    send(client, "put", "/api/machines/m/draft", designer, {"definition": changed, "revision": 1})
    diff = send(client, "get", "/api/machines/m/diff?from=1&to=draft", designer).json()
    assert diff == {
        "machine": ["context"],
        "states": {
            "added": ["archived"],
            "removed": ["returned"],
            "changed": [{"id": "draft", "keys": ["label"]}],
        },
        "transitions": {
            "added": [],
            "removed": [],
            "changed": [{"id": "completed-return", "keys": ["guard", "target"]}],
        },
    }
    send(client, "post", "/api/machines/m/publish", designer, {"note": "second"})
    assert send(client, "get", "/api/machines/m/diff?from=2&to=draft", designer).json()[
        "states"
    ] == {"added": [], "removed": [], "changed": []}


def test_delete_retires_the_versions_and_the_slug_can_be_used_again(
    client: Client, designer: Any
) -> None:
    create_order(client, designer)
    send(client, "post", "/api/machines/m/publish", designer, {})
    assert send(client, "delete", "/api/machines/m", designer).status_code == 204
    assert not Machine.objects.exists()
    assert list(MachineVersion.objects.values_list("number", "retired")) == [(1, True)]
    assert send(client, "get", "/api/machines/m/versions", designer).status_code == 404

    create_order(client, designer)
    again = send(client, "post", "/api/machines/m/publish", designer, {})
    assert again.json()["number"] == 2  # numbers continue after the retired ones
    assert send(client, "get", "/api/machines/m/versions", designer).json()[0]["number"] == 2


def test_viewers_read_designers_edit_and_publish(client: Client, as_role: Any) -> None:
    designer, viewer, operator = as_role("designers"), as_role("viewers"), as_role("operators")
    create_order(client, designer)
    for headers in (viewer, operator):
        assert send(client, "get", "/api/machines", headers).status_code == 200
        assert send(client, "get", "/api/machines/m/draft", headers).status_code == 200
        assert send(client, "post", "/api/machines/m/validate", headers).status_code == 200
        assert send(client, "post", "/api/machines/m/publish", headers, {}).status_code == 403
        put = send(
            client, "put", "/api/machines/m/draft", headers, {"definition": {}, "revision": 1}
        )
        assert put.status_code == 403
        created = send(client, "post", "/api/machines", headers, {"slug": "n", "title": "N"})
        assert created.status_code == 403
        assert send(client, "delete", "/api/machines/m", headers).status_code == 403
    assert not MachineVersion.objects.exists()
    assert Machine.objects.get().revision == 1
    assert client.get("/api/machines").status_code in (401, 403)
