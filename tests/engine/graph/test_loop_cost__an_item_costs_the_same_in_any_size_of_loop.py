"""An item of a graph loop costs the same however many items the loop has: each advance of the
run takes the same SQL statements, and each item's step is journaled with what its node reads,
never with the run's input or the loop's other items (which made a loop's cost grow with the
square of its items). Driven through the worker's own entry points (advance, run_branch)
in this process, against real PostgreSQL; the messages they send are taken from the broker's
place and handed over in order."""

import json
from collections import deque
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.messaging import dispatch
from engine.models import GraphVersion, Run, RunStatus, StepRecord
from engine.runtime import runner
from engine.runtime.runner import advance, run_branch
from engine.runtime.runs import create_run
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db(transaction=True)

LOOP = graph(
    [
        ("start", "trigger.manual"),
        ("each", "logic.loop", {"items": "input.items", "concurrency": 10}),
        ("double", "flow.transform", {"output": "{{ item * 2 }}"}),
        ("done", "flow.end", {"output": "{{ nodes.each.output }}"}),
    ],
    ["start>each", "each>body>double", "double>each", "each>done>done"],
)


@pytest.fixture
def workflow() -> str:
    GraphVersion.objects.create(
        workflow="loop-cost", number=1, title="Loop cost", graph=LOOP, published_at=timezone.now()
    )
    return "loop-cost"


def run_to_the_end(workflow: str, items: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, int]:
    """The run of a loop over `items` items, and the most statements one advance took."""
    sent: deque[tuple[str, tuple[Any, ...]]] = deque()
    # No lease-renewing thread: these advances are short, and its connection would outlive
    # the test database.
    monkeypatch.setattr(runner.leases, "hold", lambda run_id, owner: None)
    monkeypatch.setattr(
        dispatch, "send_many", lambda name, calls: sent.extend((name, args) for args in calls)
    )
    with transaction.atomic():
        run = create_run(workflow, {"items": list(range(items))})
    most = 0
    while sent:
        name, args = sent.popleft()
        if name == dispatch.RUN_BRANCH:
            run_branch(*args)
            continue
        assert name == dispatch.ADVANCE_RUN
        with CaptureQueriesContext(connection) as statements:
            advance(*args)
        most = max(most, len(statements))
    run.refresh_from_db()
    return run, most


def largest_item_step(run: Run) -> int:
    """The most characters an item's journaled step (its arguments and what it rendered) took."""
    details = StepRecord.objects.filter(run=run, name__startswith="double[").values_list(
        "detail", flat=True
    )
    return max(len(json.dumps(detail)) for detail in details)


def test_a_loop_of_200_items_costs_per_item_what_a_loop_of_20_does(
    workflow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, small_statements = run_to_the_end(workflow, 20, monkeypatch)
    large, large_statements = run_to_the_end(workflow, 200, monkeypatch)
    assert small.status == large.status == RunStatus.COMPLETED
    assert large.output == [2 * index for index in range(200)]
    assert StepRecord.objects.filter(run=large, name__startswith="double[").count() == 200
    assert large_statements <= small_statements + 2
    # Only the item's own index and value grow (by a digit or two), never the loop's items.
    assert largest_item_step(large) <= largest_item_step(small) + 16
