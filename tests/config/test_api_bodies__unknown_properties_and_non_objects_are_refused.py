"""Every request body the API takes is a JSON object of the properties its schema names, of
their own types (accounts/api_bodies.py): for each operation in the OpenAPI document, a body
that is not an object is a 422 naming `body`, and an otherwise valid body with one property
more is a 422 naming that property; neither changes anything. The document says so too
(`additionalProperties: false`), so clients and the fuzz test know it."""

from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from pydantic import ValidationError

from accounts.api_bodies import BodyIn
from accounts.models import ApiToken
from config.api import api

pytestmark = pytest.mark.django_db

UNKNOWN = "zz_not_a_property"


def _operations_with_bodies() -> list[tuple[str, str, dict[str, Any]]]:
    document = api.get_openapi_schema()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                found.append((method, path, _object_schema(document, body)))
    return found


def _object_schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema itself: through a $ref, or the object of an optional body's anyOf."""
    if "anyOf" in schema:
        [schema] = [part for part in schema["anyOf"] if part.get("type") != "null"]
    if "$ref" in schema:
        return dict(document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def _plausible(schema: dict[str, Any]) -> Any:
    """A value a required property of this schema accepts (the endpoint may refuse it later)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return {"date": "2030-01-01", "date-time": "2030-01-01T09:00:00Z"}.get(
            schema.get("format", ""), "x"
        )
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    return {"number": 1, "boolean": False, "array": []}.get(kind, {})


def _valid_body(schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    return {name: _plausible(properties[name]) for name in schema.get("required", [])}


def _concrete(path: str) -> str:
    for name, value in (("run_id", "999999"), ("task_id", "999999"), ("instance_id", "999999")):
        path = path.replace("{" + name + "}", value)
    return path.replace("{slug}", "nope").replace("{name}", "nope").replace("{node}", "nope")


OPERATIONS = [
    pytest.param(method, path, schema, id=f"{method.upper()} {path}")
    for method, path, schema in _operations_with_bodies()
]


def _rows() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in ("engine", "designer", "accounts")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def superuser(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("root", is_superuser=True), "bodies")
    return {"Authorization": f"Bearer {raw}"}


def _send(client: Client, method: str, path: str, raw: Any, headers: dict[str, str]) -> Any:
    call = getattr(client, method)
    return call(_concrete(path), raw, content_type="application/json", headers=headers)


def test_every_operation_with_a_body_is_listed() -> None:
    assert len(OPERATIONS) >= 30
    assert "POST /api/workflows/{slug}/runs" in [operation.id for operation in OPERATIONS]


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS)
def test_the_document_forbids_other_properties(method: str, path: str, schema: Any) -> None:
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS)
def test_a_body_that_is_not_an_object_is_a_422_naming_body(
    client: Client, superuser: dict[str, str], method: str, path: str, schema: Any
) -> None:
    before = _rows()
    for raw in ("[1, 2]", '"text"', "5", "true"):
        answer = _send(client, method, path, raw, superuser)
        assert (answer.status_code, answer.json()["field"]) == (422, "body"), (raw, answer.json())
        assert "Input should be a JSON object" in str(answer.json()["detail"])
    assert _rows() == before


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS)
def test_a_property_the_schema_does_not_name_is_a_422_naming_it(
    client: Client, superuser: dict[str, str], method: str, path: str, schema: Any
) -> None:
    before = _rows()
    body = {**_valid_body(schema), UNKNOWN: 1}
    answer = _send(client, method, path, body, superuser)
    assert (answer.status_code, answer.json()["field"]) == (422, UNKNOWN), answer.json()
    assert _rows() == before


class Sample(BodyIn):
    count: int = 0
    on: bool = False
    share: float = 0.0


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"count": "5"}, "count"),
        ({"count": True}, "count"),
        ({"count": 1.0}, "count"),
        ({"on": 1}, "on"),
        ({"on": "true"}, "on"),
        ({"share": "0.5"}, "share"),
    ],
)
def test_numbers_and_switches_are_strict(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Sample.model_validate(given)
    assert refused.value.errors()[0]["loc"] == (field,)
    assert Sample.model_validate({"count": 5, "on": True, "share": 1}).share == 1.0
