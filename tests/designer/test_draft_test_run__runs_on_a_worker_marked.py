"""A designer test-runs the saved draft: it runs on a real worker, pinned to `draft rev N`,
marked as a test, publishes nothing; bad input and an invalid draft are named 422s."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from designer.models import Workflow
from engine.models import DraftSnapshot, GraphVersion, Run
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

SCHEMA = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}
DRAFT = graph(
    [
        ("start", "trigger.manual", {"input_schema": SCHEMA}),
        ("check", "logic.condition", {"expression": "input.amount > 1000"}),
        ("big", "flow.end", {"output": {"size": "big", "amount": "{{ input.amount }}"}}),
        ("small", "flow.end", {"output": {"size": "small"}}),
    ],
    ["start>check", "check>true>big", "check>false>small"],
)


def test_a_test_run_of_the_draft_runs_on_the_worker(client: Client, make_user: Any) -> None:
    _, raw = ApiToken.issue(make_user("dana", "designers"), "ci")
    designer = {"Authorization": f"Bearer {raw}"}

    def post(path: str, body: Any) -> Any:
        return client.post(path, body, content_type="application/json", headers=designer)

    assert post("/api/workflows", {"slug": "t", "title": "T", "graph": DRAFT}).status_code == 201
    revision = Workflow.objects.get(slug="t").revision

    started = post("/api/workflows/t/draft/test-run", {"input": {"amount": 5000}})
    assert started.status_code == 201, started.json()
    run_id = started.json()["run_id"]
    assert started.json()["url"] == f"/runs/{run_id}/"
    run = wait_for_status(Run.objects.get(pk=run_id), "completed")
    assert run.is_test and run.kind == "graph" and run.version == f"draft rev {revision}"
    assert run.output == {"size": "big", "amount": 5000}
    assert run.created_by is not None and run.created_by.username == "dana"
    assert not GraphVersion.objects.filter(workflow="t").exists()  # nothing was published
    assert DraftSnapshot.objects.get(workflow="t").graph == DRAFT

    listed = client.get("/api/runs?workflow=t", headers=designer).json()
    assert [(item["id"], item["is_test"]) for item in listed] == [(run_id, True)]
    client.force_login(run.created_by)
    explorer = client.get("/runs/?workflow=t").content.decode()
    assert f'data-testid="run-{run_id}"' in explorer and 'data-testid="test-run"' in explorer

    # The draft changes; the first test run keeps its graph, the next runs the new one.
    changed = {**DRAFT, "nodes": [dict(node) for node in DRAFT["nodes"]]}
    changed["nodes"][1] = {**changed["nodes"][1], "config": {"expression": "input.amount > 1"}}
    saved = client.put(
        "/api/workflows/t/draft",
        {"graph": changed, "revision": revision},
        content_type="application/json",
        headers=designer,
    )
    assert saved.status_code == 200
    second = post("/api/workflows/t/draft/test-run", {"input": {"amount": 5}}).json()["run_id"]
    second_run = wait_for_status(Run.objects.get(pk=second), "completed")
    assert second_run.version == f"draft rev {revision + 1}"
    assert second_run.output == {"size": "big", "amount": 5}

    bad = post("/api/workflows/t/draft/test-run", {"input": {"amount": "lots"}})
    assert bad.status_code == 422 and bad.json()["field"] == "input.amount"
    missing = post("/api/workflows/t/draft/test-run", {})
    assert missing.status_code == 422 and missing.json()["field"] == "input"
    assert Run.objects.filter(workflow="t").count() == 2


def test_an_invalid_draft_cannot_be_test_run_and_viewers_cannot(
    client: Client, make_user: Any
) -> None:
    _, raw = ApiToken.issue(make_user("dana", "designers"), "ci")
    _, viewer_raw = ApiToken.issue(make_user("vic", "viewers"), "ci")
    designer = {"Authorization": f"Bearer {raw}"}
    broken = graph(
        [("start", "trigger.manual"), ("check", "logic.condition", {"expression": "amount > 1"})],
        ["start>check"],
    )
    client.post(
        "/api/workflows",
        {"slug": "b", "title": "B", "graph": broken},
        content_type="application/json",
        headers=designer,
    )
    refused = client.post(
        "/api/workflows/b/draft/test-run", {}, content_type="application/json", headers=designer
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "draft"
    assert any("undefined name 'amount'" in p["message"] for p in refused.json()["problems"])
    viewer = client.post(
        "/api/workflows/b/draft/test-run",
        {},
        content_type="application/json",
        headers={"Authorization": f"Bearer {viewer_raw}"},
    )
    assert viewer.status_code == 403
    assert not Run.objects.filter(workflow="b").exists()
