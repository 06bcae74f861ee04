"""A canvas workflow's run timeout on a real worker and timer loop: a run waiting on an approval
when its timeout passes releases what it reserved (as a cancel does), ends `timed_out` with its
task cancelled and no timer left; retried, it gets its whole timeout again. A workflow that
opted out of undoing keeps its hold."""

from typing import Any

import pytest
from django.test import Client

from engine.models import HumanTask, TaskStatus, Timer
from tests.designer.test_demo_graphs__human_tasks_run_on_a_worker import open_task
from tests.designer.test_graph_api__draft_publish_run import api, bearer
from tests.engine.graph.graphs import graph
from tests.engine.graph.test_node_library__every_type_and_handle import start
from tests.engine.graph.test_retry__redoes_what_compensation_undid import RELEASE, RESERVE
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.saga_flows import holds

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

RESERVE_THEN_ASK = graph(
    [
        ("start", "trigger.manual", {}),
        RESERVE,
        ("ask", "human.approval", {"title": "Expense?", "assignees": {"users": ["mona"]}}),
        ("end", "flow.end", {}),
        RELEASE,
    ],
    ["start>reserve", "reserve>ask", "ask>approved>end"],
)


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    make_user("mona", "approvers")
    return bearer(make_user, "olga", "designers", "operators")


def _publish(client: Client, headers: dict[str, str], slug: str, **settings: Any) -> None:
    body = {"slug": slug, "title": slug, "graph": RESERVE_THEN_ASK, **settings}
    created = api(client, "post", "/api/workflows", headers, body)
    assert created.status_code == 201, created.json()
    assert created.json()["problems"] == []
    published = api(client, "post", f"/api/workflows/{slug}/publish", headers, {})
    assert published.status_code == 201, published.json()


def test_a_run_past_its_timeout_is_undone_and_ends_timed_out(
    client: Client, operator: dict[str, str]
) -> None:
    _publish(client, operator, "test-graph-timeout", timeout_seconds=1)
    run = start(client, operator, "test-graph-timeout", {"hold": "hold-31"})
    task = open_task(run, "ask")
    assert len(holds("hold-31")) == 1

    run = wait_for_status(run, "timed_out", timeout=15)
    assert run.error["type"] == "RunTimeout", run.error
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert holds("hold-31") == []  # undone as a cancel is
    assert not Timer.objects.filter(run=run).exists()

    # A retried run gets its whole timeout again: it reserves, asks, and times out once more.
    retried = api(client, "post", f"/api/runs/{run.pk}/retry", operator, {})
    assert retried.status_code == 200, retried.json()
    open_task(run, "ask")
    run = wait_for_status(run, "timed_out", timeout=15)
    assert holds("hold-31") == []
    assert not HumanTask.objects.filter(run=run, status=TaskStatus.OPEN).exists()
    assert not Timer.objects.filter(run=run).exists()


def test_a_workflow_that_opts_out_of_undoing_keeps_its_hold_when_timed_out(
    client: Client, operator: dict[str, str]
) -> None:
    _publish(
        client, operator, "test-graph-timeout-keeps", timeout_seconds=1, compensate_on_cancel=False
    )
    run = start(client, operator, "test-graph-timeout-keeps", {"hold": "hold-32"})
    open_task(run, "ask")
    run = wait_for_status(run, "timed_out", timeout=15)
    assert len(holds("hold-32")) == 1
    assert HumanTask.objects.get(run=run).status == TaskStatus.CANCELLED
    assert not Timer.objects.filter(run=run).exists()
