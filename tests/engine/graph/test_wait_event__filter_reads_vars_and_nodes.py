"""A wait-for-event filter reads the run's variables and node outputs as they were when the wait
began: each run takes only the event about its own order, whether the event comes later or
arrived before the wait (buffered)."""

from typing import Any

import pytest
from django.test import Client

from engine.models import Run, Wait
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.graph.graphs import graph
from tests.engine.graph.test_node_library__every_type_and_handle import operator, publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

__all__ = ["operator"]  # the fixture, imported so these tests can use it

WAITER = graph(
    [
        ("start", "trigger.manual", {}),
        ("remember", "flow.set", {"values": {"order_id": "{{ input.order }}"}}),
        ("lookup", "flow.transform", {"output": {"minimum": "{{ input.minimum }}"}}),
        (
            "paid",
            "flow.wait_event",
            {
                "event_types": "Order.paid",
                "filter": "event.order == vars.order_id"
                " && event.amount >= nodes.lookup.output.minimum",
                "timeout": 120,
            },
        ),
        ("out", "flow.end", {"output": "{{ nodes.paid.output.payload }}"}),
    ],
    ["start>remember", "remember>lookup", "lookup>paid", "paid>out"],
)


def _send(client: Client, headers: dict[str, str], event_id: str, payload: Any) -> None:
    body = {"type": "Order.paid", "id": event_id, "payload": payload}
    sent = api(client, "post", "/api/events", headers, body)
    assert sent.status_code in (200, 201, 202), sent.json()


def _waiting(run: Run) -> None:
    wait_until(
        lambda: Wait.objects.filter(run=run, status="waiting").exists(),
        timeout=20,
        what=f"run {run.pk} to wait",
    )


def test_each_run_takes_only_the_event_its_vars_and_nodes_let_through(
    client: Client, operator: dict[str, str]
) -> None:
    publish(client, operator, "test-filter-scope", WAITER)
    first = start(client, operator, "test-filter-scope", {"order": "A-1", "minimum": 10})
    second = start(client, operator, "test-filter-scope", {"order": "B-2", "minimum": 10})
    _waiting(first)
    _waiting(second)
    wait = Wait.objects.get(run=first, status="waiting")
    assert wait.filter_scope["vars"] == {"order_id": "A-1"}

    # Right order but too small for nodes.lookup's minimum: nobody wakes.
    _send(client, operator, "pay-1", {"order": "B-2", "amount": 5})
    # The right order and amount wakes only the run about B-2.
    _send(client, operator, "pay-2", {"order": "B-2", "amount": 50})
    assert wait_for_status(second, "completed").output == {"order": "B-2", "amount": 50}
    first.refresh_from_db()
    assert first.status == "waiting"

    _send(client, operator, "pay-3", {"order": "A-1", "amount": 12})
    assert wait_for_status(first, "completed").output == {"order": "A-1", "amount": 12}


def test_an_event_that_arrived_before_the_wait_is_found_with_the_same_filter(
    client: Client, operator: dict[str, str]
) -> None:
    slow = graph(
        [
            ("start", "trigger.manual", {}),
            ("remember", "flow.set", {"values": {"order_id": "{{ input.order }}"}}),
            ("pause", "flow.delay", {"duration": 2}),
            (
                "paid",
                "flow.wait_event",
                {"event_types": "Order.paid", "filter": "event.order == vars.order_id"},
            ),
            ("out", "flow.end", {"output": "{{ nodes.paid.output.payload }}"}),
        ],
        ["start>remember", "remember>pause", "pause>paid", "paid>out"],
    )
    publish(client, operator, "test-filter-buffered", slow)
    run = start(client, operator, "test-filter-buffered", {"order": "C-3"})
    # Both events arrive while the run still sleeps; only its own is taken when it waits.
    _send(client, operator, "early-1", {"order": "D-4", "amount": 1})
    _send(client, operator, "early-2", {"order": "C-3", "amount": 2})
    assert wait_for_status(run, "completed").output == {"order": "C-3", "amount": 2}
