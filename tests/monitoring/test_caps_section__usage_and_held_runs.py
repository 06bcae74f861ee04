"""Each workflow cap shows on /resilience/ with its usage: runs moving of its limit per key,
the runs it holds back, and where its limit was set; the section refreshes itself as a
fragment every 2 s, answers a viewer without a role with 403, and costs the same queries
however many caps and keys there are."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from engine.models import LimitSource, Run, RunStatus, WorkflowCap
from engine.runtime.runs import start_run

pytestmark = pytest.mark.django_db


def section(page: str, workflow: str) -> str:
    return page.split(f'data-cap="{workflow}"')[1].split("</tr>")[0]


@pytest.fixture
def capped() -> None:
    """test-sequence: 2 at once per customer; ada has 2 moving and 2 held, bo 1 moving."""
    WorkflowCap.objects.create(workflow="test-sequence", max_active=2, key_field="customer")
    WorkflowCap.objects.create(workflow="test-branches", max_active=4, source=LimitSource.DECLARED)
    for customer in ("ada", "ada", "ada", "ada", "bo"):
        start_run("test-sequence", {"steps": 1, "customer": customer})
    ended = start_run("test-sequence", {"steps": 1, "customer": "cy"})
    Run.objects.filter(pk=ended.pk).update(status=RunStatus.COMPLETED)


@pytest.mark.usefixtures("capped")
def test_the_section_shows_each_caps_usage_and_held_runs(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vera", "viewers"))
    page = client.get("/resilience/").content.decode()
    assert 'id="workflow-caps"' in page and 'hx-trigger="every 2s"' in page
    fragment = client.get("/resilience/caps/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    row = section(fragment, "test-sequence")
    assert "2 at once per <code>customer</code>" in row
    assert '<td data-cell="running">3</td>' in row
    assert '<td data-cell="held">2</td>' in row
    ada = row.split('data-key="ada"')[1].split("</div>")[0]
    assert "2 of 2, 2 held" in ada and "full" in ada and 'width="100"' in ada
    bo = row.split('data-key="bo"')[1].split("</div>")[0]
    assert "1 of 2" in bo and "held" not in bo and 'width="50"' in bo
    assert 'data-key="cy"' not in row  # an ended run takes no place
    assert "Set in the admin" in row
    idle = section(fragment, "test-branches")
    assert '<td data-cell="running">0</td>' in idle and "idle" in idle
    assert "Declared in code" in idle
    alone = client.get("/resilience/caps/").content.decode()
    assert "<html" in alone and "<h1>Workflow caps</h1>" in alone


def test_the_section_answers_no_role_with_403(client: Client, make_user: Any) -> None:
    client.force_login(make_user("nobody"))
    assert client.get("/resilience/caps/").status_code == 403


@pytest.mark.usefixtures("capped")
def test_more_caps_and_keys_cost_no_more_queries(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vera", "viewers"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get("/resilience/caps/", headers={"HX-Request": "true"})
        return len(captured)

    before = queries()
    WorkflowCap.objects.create(workflow="test-parallel", max_active=1, key_field="n")
    for customer in ("dee", "eve", "fay"):
        start_run("test-sequence", {"steps": 1, "customer": customer})
    assert queries() == before
