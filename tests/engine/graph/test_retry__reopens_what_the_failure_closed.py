"""Retrying a graph run that failed in one branch while another waited for an approval: the task
the failure cancelled is open again, the approver decides it, and the run completes."""

from typing import Any

import pytest
from django.test import Client

from engine.models import HumanTask, Run, TaskStatus
from tests.designer.test_graph_api__draft_publish_run import api, bearer
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.graph.test_node_library__every_type_and_handle import publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

BOOK_AND_ASK = graph(
    [
        ("start", "trigger.manual", {}),
        ("fork", "logic.parallel", {}),
        # The booking waits a moment, so the approval's task exists when the booking fails.
        ("later", "flow.delay", {"duration": 1}),
        (
            "ask",
            "human.approval",
            {"title": "Trip to {{ input.city }}", "assignees": {"users": ["manny"]}},
        ),
        (
            "book",
            "action.http",
            {
                "method": "POST",
                "url": "{{ input.agency }}/bookings",
                "body": {"city": "{{ input.city }}"},
                "retry": {"max_attempts": 1},
                "timeout": 5,
            },
        ),
        ("both", "logic.join", {"mode": "all"}),
        (
            "out",
            "flow.end",
            {
                "output": {
                    "approved_by": "{{ nodes.ask.output.decisions[0].user }}",
                    "booking": "{{ nodes.book.output.body.id }}",
                }
            },
        ),
    ],
    [
        "start>fork",
        "fork>ask",
        "fork>later",
        "later>book",
        "ask>approved>both",
        "book>both",
        "both>out",
    ],
)


def test_a_retried_run_reopens_the_cancelled_task_and_completes(
    client: Client, make_user: Any, worker_server: LocalServer
) -> None:
    designer = bearer(make_user, "dana", "designers", "operators")
    manager = bearer(make_user, "manny", "approvers")
    worker_server.route(
        "POST", "/bookings", Reply(503, {"error": "busy"}), Reply(201, {"id": "BK-9"})
    )
    publish(client, designer, "test-retry-reopens", BOOK_AND_ASK)
    run = start(
        client,
        designer,
        "test-retry-reopens",
        {"city": "Lyon", "agency": worker_server.url().rstrip("/")},
    )

    # The booking fails while the approval waits: the run fails and the task is cancelled.
    run = wait_for_status(run, "failed")
    task = HumanTask.objects.get(run=run)
    assert task.status == TaskStatus.CANCELLED
    refused = api(client, "post", f"/api/tasks/{task.pk}/decide", manager, {"decision": "approved"})
    assert refused.status_code == 409

    # Retried, the booking goes through and the task is open again for the manager.
    retried = api(client, "post", f"/api/runs/{run.pk}/retry", designer, {})
    assert retried.status_code == 200, retried.json()
    run = wait_for_status(run, "waiting")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert [item["id"] for item in api(client, "get", "/api/tasks", manager).json()] == [task.pk]
    decided = api(client, "post", f"/api/tasks/{task.pk}/decide", manager, {"decision": "approved"})
    assert decided.status_code == 200, decided.json()

    run = wait_for_status(run, "completed")
    assert run.output == {"approved_by": "manny", "booking": "BK-9"}
    assert Run.objects.filter(workflow="test-retry-reopens").count() == 1
    assert len(worker_server.requests_to("/bookings")) == 2
