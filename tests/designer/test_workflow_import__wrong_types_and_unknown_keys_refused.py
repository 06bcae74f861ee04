"""Importing an exported workflow refuses a setting of the wrong type or an unknown key, naming
`document.<field>`, and saves nothing: `"false"` is not false, `["a"]` is not a description.
The API and the designer's import page share the check."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import ApiToken
from designer.drafts import create_workflow, export_document
from designer.models import Workflow
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

GRAPH = graph([("start", "trigger.manual"), ("end", "flow.end")], ["start>end"])


@pytest.fixture
def headers(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("u-designer", "designers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def exported(headers: dict[str, str]) -> dict[str, Any]:
    workflow, _ = create_workflow(
        slug="orig",
        title="Original",
        user=None,
        description="Pays the bills",
        graph=GRAPH,
        parameters=[{"name": "who", "title": "Who", "default": "ann"}],
        is_template=True,
        compensate_on_cancel=False,
        timeout_seconds=3600,
    )
    return export_document(workflow)


def _import(client: Client, headers: dict[str, str], document: Any) -> Any:
    body = {"document": document, "slug": "copy"}
    return client.post(
        "/api/workflows/import", body, content_type="application/json", headers=headers
    )


def _table() -> list[tuple[Any, ...]]:
    return list(Workflow.objects.order_by("slug").values_list())


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"compensate_on_cancel": "no"}, "document.compensate_on_cancel", "true or false"),
        ({"compensate_on_cancel": "false"}, "document.compensate_on_cancel", "true or false"),
        ({"compensate_on_cancel": 0}, "document.compensate_on_cancel", "true or false"),
        ({"compensate_on_cancel": None}, "document.compensate_on_cancel", "true or false"),
        ({"is_template": "false"}, "document.is_template", "true or false"),
        ({"is_template": 1}, "document.is_template", "true or false"),
        ({"description": ["a"]}, "document.description", "must be text, not a list"),
        ({"description": {"a": 1}}, "document.description", "must be text, not an object"),
        ({"description": 5}, "document.description", "must be text, not a whole number"),
        ({"description": None}, "document.description", "must be text, not null"),
        ({"title": 5}, "document.title", "1 to 200 characters"),
        ({"title": ""}, "document.title", "1 to 200 characters"),
        ({"owner": "ann"}, "document.owner", "unknown key 'owner'"),
        ({"parameters": "who"}, "document.parameters", "a list of"),
        (
            {"parameters": [{"name": "who", "title": "Who", "secret": True}]},
            "document.parameters[0].secret",
            "unknown key 'secret'",
        ),
        (
            {"parameters": [{"name": "who", "title": ["Who"]}]},
            "document.parameters[0].title",
            "must be text, not a list",
        ),
    ],
)
def test_a_wrong_setting_is_refused_naming_it_and_nothing_is_saved(
    client: Client,
    headers: dict[str, str],
    exported: dict[str, Any],
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = _table()
    refused = _import(client, headers, {**exported, **change})
    assert refused.status_code == 422, refused.json()
    assert refused.json()["field"] == field
    assert message in refused.json()["detail"]
    assert _table() == before


def test_every_key_export_writes_comes_back_as_it_was(
    client: Client, headers: dict[str, str], exported: dict[str, Any]
) -> None:
    assert {"format", "format_version", "timeout_seconds"} <= set(exported)
    created = _import(client, headers, exported)
    assert created.status_code == 201, created.json()
    copy = export_document(Workflow.objects.get(slug="copy"))
    assert copy == {**exported, "slug": "copy"}


def test_a_document_without_the_optional_settings_takes_the_defaults(
    client: Client, headers: dict[str, str], exported: dict[str, Any]
) -> None:
    keep = ("format", "format_version", "title", "graph")
    created = _import(client, headers, {key: exported[key] for key in keep})
    assert created.status_code == 201, created.json()
    copy = Workflow.objects.get(slug="copy")
    assert (copy.description, copy.is_template, copy.compensate_on_cancel) == ("", False, True)
    assert copy.parameters == [] and copy.timeout_seconds is None


def test_the_import_page_refuses_the_same_way(make_user: Any, exported: dict[str, Any]) -> None:
    page = Client()
    page.force_login(make_user("u-page", "designers"))
    before = _table()
    content = json.dumps({**exported, "is_template": "false"}).encode()
    upload = SimpleUploadedFile("export.json", content, content_type="application/json")
    refused = page.post("/designer/import", {"document": upload, "slug": "copy"})
    assert refused.status_code == 422
    assert "Nothing was imported. document.is_template: must be true or false" in (
        refused.content.decode()
    )
    assert _table() == before
