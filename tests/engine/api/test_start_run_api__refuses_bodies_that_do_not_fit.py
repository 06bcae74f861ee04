"""POST /api/workflows/{slug}/runs starts a run only from a JSON object of the properties it
documents, each of its own type: a body that is not an object, a property it does not know (a
misspelt `inptu`) or a priority sent as text or a boolean is a 422 naming the field, in the
API's usual shape, and no run is created. Before, each of them started a run with input null
(or with priority 1 for `true`)."""

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.models import Run

pytestmark = pytest.mark.django_db

START = "/api/workflows/api-call/runs"


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def _start(client: Client, headers: dict[str, str], raw: str) -> Any:
    return client.post(START, raw, content_type="application/json", headers=headers)


@pytest.mark.parametrize("raw", ["[1,2]", '"str"', "5", "null", "true", "[]"])
def test_a_body_that_is_not_an_object_is_a_422_naming_body(
    client: Client, operator: dict[str, str], raw: str
) -> None:
    answer = _start(client, operator, raw)
    assert answer.status_code == 422, answer.content
    assert answer.json() == {
        "detail": [
            {"type": "model_type", "loc": ["body", "body"], "msg": "Input should be a JSON object"}
        ],
        "field": "body",
    }
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"inptu": {"a": 1}}, "inptu"),
        ({"input": {"a": 1}, "priorty": 5}, "priorty"),
        ({"input": {}, "idempotency_key": "k", "extra": None}, "extra"),
    ],
)
def test_a_property_the_schema_does_not_name_is_a_422_naming_it(
    client: Client, operator: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer = _start(client, operator, json.dumps(body))
    assert answer.status_code == 422, answer.content
    assert answer.json()["field"] == field
    [problem] = answer.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "body", field], "extra_forbidden")
    assert not Run.objects.exists()


@pytest.mark.parametrize("priority", ["5", True, False, 1.5, "high", None])
def test_a_priority_that_is_not_a_whole_number_is_a_422_naming_priority(
    client: Client, operator: dict[str, str], priority: Any
) -> None:
    answer = _start(client, operator, json.dumps({"input": {}, "priority": priority}))
    assert answer.status_code == 422, answer.content
    assert answer.json()["field"] == "priority"
    assert not Run.objects.exists()


def test_every_documented_property_is_still_taken(client: Client, operator: dict[str, str]) -> None:
    body = {
        "input": {"x": 1},
        "idempotency_key": "order-1",
        "start_at": "2099-01-01T09:00:00Z",  # JSON carries a time as text
        "priority": 5,
    }
    answer = _start(client, operator, json.dumps(body))
    assert answer.status_code == 201, answer.content
    run = Run.objects.get()
    assert (run.input, run.idempotency_key, run.priority) == ({"x": 1}, "order-1", 5)
    assert answer.json()["input"] == {"x": 1}
    # The properties are all optional: an empty object starts a run with input null.
    assert _start(client, operator, "{}").status_code == 201
