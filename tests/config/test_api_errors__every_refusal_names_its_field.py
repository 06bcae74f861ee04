"""Every API refusal about the request names its field in one shape, `{"detail": "<field>: …",
"field": "<field>"}` (django-ninja's 422 keeps its list beside the field): unknown objects named
by a path parameter, conflicts about them, bodies that are not JSON, values that do not fit, text
PostgreSQL cannot store (which answered 500 before) and addresses no endpoint answers. Each found
by the schemathesis run (test_openapi__fuzzed_by_schemathesis.py); none changes anything.
Refusals about the caller (401, 403) or the database (503) carry the same keys, with a null
field."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import OperationalError

from accounts.models import ApiToken
from engine.models import Delegation

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("olga", "operators", "designers"), "errors")
    return {"Authorization": f"Bearer {raw}"}


def _post(client: Any, path: str, headers: dict[str, str], body: str) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(client: Any, operator: Any) -> None:
    answer = client.get("/api/people", {"q": "ann\x00"}, headers=operator)
    assert answer.status_code == 422
    assert answer.json()["field"] == "q" and answer.json()["detail"].startswith("q: ")


@pytest.mark.parametrize("text", ["\\u0000", "\\ud800"])
def test_unstorable_text_in_a_body_is_a_422_naming_where(
    client: Any, operator: Any, make_user: Any, text: str
) -> None:
    groups = Group.objects.count()
    answer = _post(client, "/api/tasks/1/reassign", operator, '{"users": ["ok", "a' + text + '"]}')
    assert (answer.status_code, answer.json()["field"]) == (422, "users[1]")
    nested = _post(
        client,
        "/api/me/delegations",
        operator,
        '{"delegate": "x", "workflows": {"k' + text + '": 1}}',
    )
    assert (nested.status_code, nested.json()["field"]) == (422, "workflows")
    top = _post(client, "/api/me/delegations", operator, '{"k' + text + '": 1}')
    assert (top.status_code, top.json()["field"]) == (422, "body")
    assert Group.objects.count() == groups and not Delegation.objects.exists()


def test_a_whole_surrogate_pair_is_ordinary_text(client: Any, operator: Any) -> None:
    answer = client.get("/api/people", {"q": "\U0001f600"}, headers=operator)
    assert answer.status_code == 200


def test_an_unknown_object_is_a_404_naming_its_path_parameter(client: Any, operator: Any) -> None:
    for path, field in [
        ("/api/runs/999999", "run_id"),
        ("/api/system/worker-probes/999999", "probe_id"),
        ("/api/instances/999999", "instance_id"),
        ("/api/runs/999999/timeline", "run_id"),
        ("/api/webhooks/nope/deliveries", "slug"),
    ]:
        answer = client.get(path, headers=operator)
        assert (answer.status_code, answer.json()["field"]) == (404, field), path
        assert answer.json()["detail"].startswith(f"{field}: no "), path
    missing = client.delete("/api/me/delegations/999999", headers=operator)
    assert (missing.status_code, missing.json()["field"]) == (404, "delegation_id")
    conflict = _post(client, "/api/runs/999999/pause", operator, "{}")
    assert (conflict.status_code, conflict.json()["field"]) == (404, "run_id")


def test_a_body_that_is_not_json_or_does_not_fit_names_it(client: Any, operator: Any) -> None:
    broken = _post(client, "/api/machines/m/instances", operator, "{not json")
    assert broken.status_code == 400
    assert broken.json() == {"detail": "body: not valid JSON", "field": "body"}
    unfit = _post(client, "/api/machines/m/instances", operator, '{"key": 5}')
    assert unfit.status_code == 422
    assert unfit.json()["field"] == "key" and isinstance(unfit.json()["detail"], list)


def test_an_address_no_endpoint_answers_is_json(client: Any, operator: Any) -> None:
    answer = client.get("/api/no-such-thing", headers=operator)
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json()["field"] == "path"


def test_the_caller_s_refusals_name_no_field(client: Any, make_user: Any) -> None:
    assert client.get("/api/runs").json() == {"detail": "Unauthorized", "field": None}


def test_refusals_about_the_caller_or_the_database_carry_a_null_field(
    client: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "errors")
    viewer = {"Authorization": f"Bearer {raw}"}
    roles = client.get("/api/people", headers=viewer)
    assert roles.status_code == 403
    assert roles.json() == {"detail": "your roles do not allow: edit workflows", "field": None}
    _, raw = ApiToken.issue(make_user("dora", "designers"), "errors")
    designer = {"Authorization": f"Bearer {raw}"}

    def refuses(query: str) -> None:
        raise PermissionDenied("your roles do not allow: see people")

    monkeypatch.setattr("accounts.api.search_people", refuses)
    denied = client.get("/api/people", headers=designer)
    assert denied.status_code == 403
    assert denied.json() == {"detail": "your roles do not allow: see people", "field": None}

    def restarting(query: str) -> None:
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr("accounts.api.search_people", restarting)
    unavailable = client.get("/api/people", headers=designer)
    assert (unavailable.status_code, unavailable["Retry-After"]) == (503, "2")
    assert unavailable.json() == {
        "detail": "database: unavailable for a moment, try again",
        "field": None,
    }
