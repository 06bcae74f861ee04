"""An approval timeout or a delay over 365 days (or an approval timeout of 0) is a validation
problem naming the field: the draft is not valid and is not published, instead of every run
of it failing with an OverflowError."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.models import GraphVersion
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("u-designer", "designers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def send(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return getattr(client, method)(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("node_type", "config", "field", "message"),
    [
        (
            "human.approval",
            {"assignees": {"users": ["u-designer"]}, "timeout": "99999999w"},
            "config.timeout",
            "must be at most 365 days (31536000 seconds)",
        ),
        (
            "human.approval",
            {"assignees": {"users": ["u-designer"]}, "timeout": 1e300},
            "config.timeout",
            "must be at most 365 days (31536000 seconds)",
        ),
        (
            "human.approval",
            {"assignees": {"users": ["u-designer"]}, "timeout": 0},
            "config.timeout",
            "must be more than 0",
        ),
        (
            "flow.delay",
            {"duration": "99999999w"},
            "config.duration",
            "must be at most 365 days (31536000 seconds)",
        ),
    ],
)
def test_the_duration_is_a_problem_and_nothing_is_published(
    client: Client,
    designer: dict[str, str],
    node_type: str,
    config: dict[str, Any],
    field: str,
    message: str,
) -> None:
    document = graph([("start", "trigger.manual"), ("wait", node_type, config)], ["start>wait"])
    body = {"slug": "d", "title": "D", "graph": document}
    created = send(client, "post", "/api/workflows", designer, body)
    assert created.status_code == 201
    checked = send(client, "post", "/api/workflows/d/validate", designer, {}).json()
    assert checked == {
        "valid": False,
        "problems": [{"node": "wait", "field": field, "message": message}],
    }
    refused = send(client, "post", "/api/workflows/d/publish", designer, {"note": "try"})
    assert refused.status_code == 422
    assert not GraphVersion.objects.exists()
