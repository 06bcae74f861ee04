"""Graphs on a real worker: retrying a run whose compensation ran does the undone step again,
cancelling a run undoes what it did (unless the workflow opted out), and a join that abandoned
a branch does not bring it back. Each test asserts the world: records and requests received."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from engine.models import HumanTask, TaskStatus
from tests.designer.test_graph_api__draft_publish_run import api, bearer
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.graph.test_node_library__every_type_and_handle import publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.saga_flows import holds, journal

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

RESERVE = (
    "reserve",
    "action.record",
    {
        "operation": "create",
        "collection": "Holds",
        "key": "{{ input.hold }}",
        "data": {"for": "{{ input.hold }}"},
        "compensation": "release",
    },
)
RELEASE = (
    "release",
    "action.record",
    {"operation": "delete", "collection": "Holds", "key": "{{ input.hold }}"},
)
CHARGE = (
    "charge",
    "action.http",
    {"method": "POST", "url": "{{ input.pay }}", "retry": {"max_attempts": 1}, "timeout": 5},
)

RESERVE_THEN_CHARGE = graph(
    [
        ("start", "trigger.manual", {}),
        RESERVE,
        CHARGE,
        ("end", "flow.end", {"output": {"hold": "{{ nodes.reserve.output.key }}"}}),
        RELEASE,
    ],
    ["start>reserve", "reserve>charge", "charge>end"],
)

RESERVE_WAIT_CHARGE = graph(
    [
        ("start", "trigger.manual", {}),
        RESERVE,
        (
            "go",
            "flow.wait_event",
            {"event_types": ["Hold.go"], "match": {"hold": "{{ input.hold }}"}},
        ),
        CHARGE,
        ("end", "flow.end", {}),
        RELEASE,
    ],
    ["start>reserve", "reserve>go", "go>charge", "charge>end"],
)


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    return bearer(make_user, "olga", "designers", "operators")


def test_a_retried_run_reserves_again_what_the_compensation_released(
    client: Client, operator: dict[str, str], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/pay-17", Reply(500, {"error": "down"}), Reply(200, {"ok": 1}))
    publish(client, operator, "test-redo-hold", RESERVE_THEN_CHARGE)
    run = start(
        client, operator, "test-redo-hold", {"hold": "hold-17", "pay": worker_server.url("/pay-17")}
    )

    run = wait_for_status(run, "failed")
    assert holds("hold-17") == []  # release:undo:reserve deleted it

    retried = api(client, "post", f"/api/runs/{run.pk}/retry", operator, {})
    assert retried.status_code == 200, retried.json()
    run = wait_for_status(run, "completed")

    [hold] = holds("hold-17")
    assert run.output == {"hold": "hold-17"}
    assert hold.created_by_step.endswith(":reserve:redo-1")  # a new key: a new effect
    charges = worker_server.requests_to("/pay-17")
    assert len(charges) == 2  # the failed one and the one that went through
    assert charges[0].headers["idempotency-key"] != hold.created_by_step
    assert journal(run) == [
        ("start", "completed", False),
        ("reserve", "completed", True),
        ("charge", "failed", True),
        ("release:undo:reserve", "completed", True),
        ("reserve", "completed", False),
        ("charge", "completed", False),
        ("end", "completed", False),
    ]
    detail = api(client, "get", f"/api/runs/{run.pk}", operator).json()
    compensation = next(s for s in detail["steps"] if s["name"] == "release:undo:reserve")
    reserve = next(s for s in detail["steps"] if s["name"] == "reserve")
    assert compensation["undoes"] == {"seq": reserve["seq"], "branch": 0}
    assert compensation["superseded"] is True
    client.force_login(User.objects.get(username="olga"))
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "undoes reserve" in page
    assert "done again" in page


def test_cancel_between_reserve_and_charge_releases_the_hold(
    client: Client, operator: dict[str, str], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/pay-21", Reply(200, {"ok": 1}))
    publish(client, operator, "test-cancel-hold", RESERVE_WAIT_CHARGE)
    run = start(
        client,
        operator,
        "test-cancel-hold",
        {"hold": "hold-21", "pay": worker_server.url("/pay-21")},
    )
    run = wait_for_status(run, "waiting")
    assert len(holds("hold-21")) == 1

    cancelled = api(client, "post", f"/api/runs/{run.pk}/cancel", operator, {"reason": "no stock"})
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] in ("cancelling", "cancelled")
    run = wait_for_status(run, "cancelled")

    assert holds("hold-21") == []
    assert worker_server.requests_to("/pay-21") == []
    assert run.error == {"type": "Cancelled", "message": "no stock"}
    assert [name for name, _, _ in journal(run)] == [
        "start",
        "reserve",
        "go",
        "release:undo:reserve",
    ]

    # Retried by the same rule: the hold is made again and the run waits again.
    retried = api(client, "post", f"/api/runs/{run.pk}/retry", operator, {})
    assert retried.status_code == 200, retried.json()
    run = wait_for_status(run, "waiting")
    assert len(holds("hold-21")) == 1
    api(
        client, "post", "/api/events", operator, {"type": "Hold.go", "payload": {"hold": "hold-21"}}
    )
    wait_for_status(run, "completed")
    assert len(holds("hold-21")) == 1
    assert len(worker_server.requests_to("/pay-21")) == 1


def test_a_workflow_that_opts_out_keeps_its_hold_when_cancelled(
    client: Client, operator: dict[str, str], worker_server: LocalServer
) -> None:
    created = api(
        client,
        "post",
        "/api/workflows",
        operator,
        {
            "slug": "test-cancel-keeps",
            "title": "Keeps holds",
            "graph": RESERVE_WAIT_CHARGE,
            "compensate_on_cancel": False,
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["compensate_on_cancel"] is False
    published = api(client, "post", "/api/workflows/test-cancel-keeps/publish", operator, {})
    assert published.status_code == 201, published.json()
    run = start(
        client, operator, "test-cancel-keeps", {"hold": "hold-22", "pay": worker_server.url("/x")}
    )
    run = wait_for_status(run, "waiting")

    cancelled = api(client, "post", f"/api/runs/{run.pk}/cancel", operator, {})
    assert cancelled.json()["status"] == "cancelled"  # opted out: it ends at once
    assert len(holds("hold-22")) == 1
    assert [name for name, _, _ in journal(run)] == ["start", "reserve", "go"]


def test_a_join_that_abandoned_an_approval_keeps_it_withdrawn_through_a_retry(
    client: Client, operator: dict[str, str], make_user: Any, worker_server: LocalServer
) -> None:
    make_user("mona", "approvers")
    worker_server.route("POST", "/pay-23", Reply(503, {"error": "busy"}), Reply(200, {"ok": 1}))
    race = graph(
        [
            ("start", "trigger.manual", {}),
            ("fork", "logic.parallel", {}),
            ("ask", "human.approval", {"title": "Hold?", "assignees": {"users": ["mona"]}}),
            RESERVE,
            ("first", "logic.join", {"mode": "any"}),
            CHARGE,
            ("end", "flow.end", {}),
            RELEASE,
        ],
        [
            "start>fork",
            "fork>ask",
            "fork>reserve",
            "ask>approved>first",
            "reserve>first",
            "first>charge",
            "charge>end",
        ],
    )
    publish(client, operator, "test-redo-race", race)
    run = start(
        client, operator, "test-redo-race", {"hold": "hold-23", "pay": worker_server.url("/pay-23")}
    )
    run = wait_for_status(run, "failed")
    task = HumanTask.objects.get(run=run)
    assert task.status == TaskStatus.WITHDRAWN
    assert holds("hold-23") == []

    retried = api(client, "post", f"/api/runs/{run.pk}/retry", operator, {})
    assert retried.status_code == 200, retried.json()
    run = wait_for_status(run, "completed")
    task.refresh_from_db()
    assert task.status == TaskStatus.WITHDRAWN  # the abandoned branch stays abandoned
    assert len(holds("hold-23")) == 1
    assert len(worker_server.requests_to("/pay-23")) == 2
