"""A node whose expression would exceed the CEL cost budget fails its step at once (no retry,
the worker unharmed) with an error naming the expression and the budget; an event trigger's
filter over budget starts nothing and the event is still stored."""

from datetime import UTC, datetime
from typing import Any

import pytest

from designer.drafts import create_workflow, publish
from engine.core.expressions import MAX_EVALUATION_COST
from engine.core.testing import WorkflowTester
from engine.graph.interpreter import graph_workflow
from engine.graph.resolver import load_program
from engine.inbound.events import deliver_event
from engine.models import Event, GraphVersion, Run
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

BOMB = "input.a.map(x, input.a.map(y, input.a))"
BUDGET = f"the budget is {MAX_EVALUATION_COST:,}"


def test_a_node_over_the_budget_fails_its_step_once_without_retrying() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("explode", "flow.transform", {"output": "{{ " + BOMB + " }}"}),
            ("end", "flow.end", {"output": "{{ nodes.explode.output }}"}),
        ],
        ["start>explode", "explode>end"],
    )
    GraphVersion.objects.create(
        workflow="test-bomb", number=1, title="Bomb", graph=document, published_at=datetime.now(UTC)
    )
    program = load_program("test-bomb", "v1")
    assert program is not None
    result = WorkflowTester(start=datetime.now(UTC)).run(
        graph_workflow(program), {"a": list(range(500))}
    )
    assert result.status == "failed"
    assert result.error is not None
    cause = result.error["cause"]
    assert cause["type"] == "engine.graph.program.ExpressionFailed"
    assert 'node "explode"' in cause["message"] and BOMB in cause["message"]
    assert BUDGET in cause["message"]
    assert [(name, attempt) for name, _, attempt in result.history if name == "explode"] == [
        ("explode", 1)
    ]


def test_an_event_trigger_filter_over_the_budget_starts_nothing() -> None:
    document: dict[str, Any] = graph(
        [
            (
                "start",
                "trigger.event",
                {
                    "event_types": ["Bomb.dropped"],
                    "filter": BOMB.replace("input", "event") + " != []",
                },
            ),
            ("out", "flow.end", {"output": "{{ input }}"}),
        ],
        ["start>out"],
    )
    created, problems = create_workflow(
        slug="test-bomb-filter", title="Bomb filter", user=None, graph=document
    )
    assert problems == []
    publish(created, None)
    delivery = deliver_event("Bomb.dropped", {"a": list(range(1000))}, event_id="bomb-1")
    assert delivery.created and delivery.started_runs == []
    assert Event.objects.filter(event_id="bomb-1").exists()
    assert not Run.objects.filter(workflow="test-bomb-filter").exists()
    small = deliver_event("Bomb.dropped", {"a": [1, 2]}, event_id="bomb-2")
    assert len(small.started_runs) == 1
