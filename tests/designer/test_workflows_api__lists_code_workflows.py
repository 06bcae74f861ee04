"""GET /api/workflows lists code workflows with kind "code"; bad input is refused clearly."""

import pytest
from django.test import Client

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_headers(make_user) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def test_code_workflows_are_listed_read_only(client: Client, viewer_headers) -> None:
    response = client.get("/api/workflows", headers=viewer_headers)
    assert response.status_code == 200
    by_slug = {workflow["slug"]: workflow for workflow in response.json()}
    expense = by_slug["expense-approval"]
    assert expense["kind"] == "code"
    assert expense["editable"] is False
    assert expense["version"].startswith("code:")
    assert "demo" in expense["tags"]
    assert client.get("/api/workflows?kind=graph", headers=viewer_headers).json() == []


def test_one_workflow_and_the_errors(client: Client, viewer_headers) -> None:
    detail = client.get("/api/workflows/customer-onboarding", headers=viewer_headers)
    assert detail.json()["title"]
    missing = client.get("/api/workflows/nope", headers=viewer_headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "slug: no workflow called 'nope'", "field": "slug"}
    bad = client.get("/api/workflows?kind=weird", headers=viewer_headers)
    assert bad.status_code == 422
    assert "kind" in bad.json()["detail"]
    assert client.get("/api/workflows").status_code == 401
