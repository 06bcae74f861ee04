"""A graph workflow's run timeout through the API: set on create and by PATCH, read back by GET
and the list, cleared by null, copied into each published version (a change of timeout alone
is worth a version), and carried by export and import. Zero, a negative, more than 365 days,
a bool and a string are a 422 naming `timeout_seconds`, and nothing changes."""

from typing import Any

import pytest
from django.test import Client

from designer.models import Workflow
from engine.graph.resolver import resolve_graph
from engine.models import GraphVersion
from tests.designer.test_graph_api__draft_publish_run import api, bearer
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

MANUAL = graph([("start", "trigger.manual"), ("end", "flow.end")], ["start>end"])
FIVE_DAYS = 5 * 86_400


@pytest.fixture
def designer(make_user: Any) -> dict[str, str]:
    return bearer(make_user, "dana", "designers")


def test_the_timeout_round_trips_and_each_version_keeps_its_own(
    client: Client, designer: dict[str, str]
) -> None:
    created = api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "expenses", "title": "Expenses", "graph": MANUAL, "timeout_seconds": 3600},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["timeout_seconds"] == 3600

    patched = api(
        client, "patch", "/api/workflows/expenses", designer, {"timeout_seconds": FIVE_DAYS}
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["timeout_seconds"] == FIVE_DAYS
    assert api(client, "get", "/api/workflows/expenses", designer).json()["timeout_seconds"] == (
        FIVE_DAYS
    )
    listed = api(client, "get", "/api/workflows?kind=graph", designer).json()
    assert [row["timeout_seconds"] for row in listed if row["slug"] == "expenses"] == [FIVE_DAYS]

    assert api(client, "post", "/api/workflows/expenses/publish", designer, {}).status_code == 201
    # Only the timeout changed: still a new version, with its own timeout.
    api(client, "patch", "/api/workflows/expenses", designer, {"timeout_seconds": 1.5})
    assert api(client, "post", "/api/workflows/expenses/publish", designer, {}).status_code == 201
    versions = GraphVersion.objects.filter(workflow="expenses").order_by("number")
    assert [v.timeout_seconds for v in versions] == [FIVE_DAYS, 1.5]
    # The engine runs each version with its own timeout.
    timeouts = [resolve_graph("expenses", v) for v in ("v1", "v2")]
    assert [found and found.definition.timeout for found in timeouts] == [FIVE_DAYS, 1.5]

    # A PATCH without the field leaves it alone; null clears it.
    api(client, "patch", "/api/workflows/expenses", designer, {"title": "Expense claims"})
    assert Workflow.objects.get(slug="expenses").timeout_seconds == 1.5
    cleared = api(client, "patch", "/api/workflows/expenses", designer, {"timeout_seconds": None})
    assert cleared.json()["timeout_seconds"] is None
    assert Workflow.objects.get(slug="expenses").timeout_seconds is None


def test_export_and_import_carry_the_timeout(client: Client, designer: dict[str, str]) -> None:
    api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "expenses", "title": "Expenses", "graph": MANUAL, "timeout_seconds": FIVE_DAYS},
    )
    document = api(client, "get", "/api/workflows/expenses/export", designer).json()
    assert document["timeout_seconds"] == FIVE_DAYS
    imported = api(
        client,
        "post",
        "/api/workflows/import",
        designer,
        {"document": document, "slug": "expenses-copy"},
    )
    assert imported.status_code == 201, imported.json()
    assert imported.json()["timeout_seconds"] == FIVE_DAYS

    forged = {**document, "timeout_seconds": "5d"}
    refused = api(
        client, "post", "/api/workflows/import", designer, {"document": forged, "slug": "forged"}
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "document.timeout_seconds"
    assert not Workflow.objects.filter(slug="forged").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "more than 0 seconds and at most 365 days"),
        (-60, "more than 0 seconds and at most 365 days"),
        (365 * 86_400 + 1, "more than 0 seconds and at most 365 days"),
        (1e300, "more than 0 seconds and at most 365 days"),
        (True, None),
        ("3600", None),
        ("5d", None),
        ([3600], None),
    ],
)
def test_a_bad_timeout_is_a_422_naming_the_field(
    client: Client, designer: dict[str, str], value: Any, message: str | None
) -> None:
    api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "expenses", "title": "Expenses", "graph": MANUAL, "timeout_seconds": 60},
    )
    body = {"title": "Renamed", "timeout_seconds": value}
    refused = api(client, "patch", "/api/workflows/expenses", designer, body)
    assert refused.status_code == 422, refused.json()
    answer = refused.json()
    assert answer["field"] == "timeout_seconds", answer
    if message is None:  # not a number: the schema refuses it (strict: no bool, no text)
        assert [problem["loc"] for problem in answer["detail"]] == [
            ["body", "body", "timeout_seconds"]
        ]
        assert answer["detail"][0]["msg"] == "Input should be a valid number"
    else:
        assert answer["field"] == "timeout_seconds"
        assert answer["detail"] == f"timeout_seconds: {message} (31536000 seconds)"
    workflow = Workflow.objects.get(slug="expenses")
    assert (workflow.title, workflow.timeout_seconds) == ("Expenses", 60)

    created = api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "other", "title": "Other", "graph": MANUAL, "timeout_seconds": value},
    )
    assert created.status_code == 422
    assert created.json()["field"] == "timeout_seconds"
    assert not Workflow.objects.filter(slug="other").exists()
