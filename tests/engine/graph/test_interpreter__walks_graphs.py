"""The graph interpreter walks branches, loops, joins, variables, errors and compensation,
journaling every node as a step (in memory, through the workflow test harness; the graph is a
published version, so that parallel branches find their node's step as workers do)."""

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from engine.core import Retry, action
from engine.core.testing import WorkflowTester
from engine.graph.interpreter import graph_workflow
from engine.graph.resolver import load_program
from engine.models import GraphVersion
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

_versions = count(1)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
calls: list[Any] = []


@action("test.record-call")
def record_call(value: Any = None) -> Any:
    calls.append(value)
    return {"seen": value}


@action("test.fail", retry=Retry(max_attempts=2, initial_delay=0, jitter=0))
def fail(message: str = "boom") -> None:
    calls.append(f"fail:{message}")
    raise RuntimeError(message)


@pytest.fixture(autouse=True)
def fresh_calls() -> None:
    calls.clear()


def run(document: dict[str, Any], input: Any = None, tester: WorkflowTester | None = None) -> Any:
    number = next(_versions)
    GraphVersion.objects.create(
        workflow="test-graph", number=number, title="Test", graph=document, published_at=_EPOCH
    )
    program = load_program("test-graph", f"v{number}")
    assert program is not None
    return (tester or clocked_tester()).run(graph_workflow(program), input)


def clocked_tester() -> WorkflowTester:
    # A node's step reads the real clock (its `now`), so the virtual clock starts there too.
    return WorkflowTester(start=datetime.now(UTC))


def test_a_condition_takes_one_branch_and_the_end_node_gives_the_output() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("check", "logic.condition", {"expression": "input.amount > 1000"}),
            ("big", "flow.transform", {"output": {"route": "vp", "amount": "{{ input.amount }}"}}),
            ("small", "flow.transform", {"output": {"route": "manager"}}),
            ("end", "flow.end", {"output": "{{ nodes.big.output }}"}),
        ],
        ["start>check", "check>true>big", "check>false>small", "big>end"],
    )
    result = run(document, {"amount": 5000})
    assert result.status == "completed"
    assert result.output == {"route": "vp", "amount": 5000}
    assert result.step_names() == ["start", "check", "big", "end"]
    small = run(document, {"amount": 10})
    assert small.output == {"route": "manager"}
    assert "big" not in small.step_names()


def test_a_switch_picks_the_first_matching_case_or_default() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            (
                "route",
                "logic.switch",
                {
                    "cases": [
                        {"name": "eu", "when": "input.region == 'eu'"},
                        {"name": "us", "when": "input.region == 'us'"},
                    ]
                },
            ),
            ("eu", "flow.transform", {"output": "EU"}),
            ("us", "flow.transform", {"output": "US"}),
            ("other", "flow.transform", {"output": "elsewhere"}),
        ],
        ["start>route", "route>eu>eu", "route>us>us", "route>default>other"],
    )
    assert run(document, {"region": "us"}).output == "US"
    assert run(document, {"region": "jp"}).output == "elsewhere"


def test_variables_set_by_one_node_are_read_by_later_ones() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("set", "flow.set", {"values": {"greeting": "Hello {{ input.name }}", "n": 2}}),
            ("use", "flow.transform", {"output": "{{ vars.greeting + '!' }}"}),
        ],
        ["start>set", "set>use"],
    )
    assert run(document, {"name": "Ada"}).output == "Hello Ada!"


def test_a_loop_runs_its_body_per_item_and_leaves_with_the_results() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("each", "logic.loop", {"items": "input.emails", "concurrency": 2}),
            (
                "send",
                "action.python",
                {"action": "test.record-call", "args": {"value": "{{ item }}"}},
            ),
            ("tag", "flow.transform", {"output": "{{ string(index) + ':' + item }}"}),
            ("done", "flow.transform", {"output": "{{ nodes.each.output }}"}),
        ],
        ["start>each", "each>body>send", "send>tag", "tag>each", "each>done>done"],
    )
    result = run(document, {"emails": ["a@x", "b@x", "c@x"]})
    assert result.status == "completed", result.error
    assert result.output == ["0:a@x", "1:b@x", "2:c@x"]
    assert sorted(calls) == ["a@x", "b@x", "c@x"]
    assert "parallel" in result.step_names()  # two items at a time
    assert "tag[2]" in result.step_names()


def test_a_loop_with_a_delay_waits_between_items() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("each", "logic.loop", {"items": "[1, 2, 3]", "delay": "1h"}),
            (
                "send",
                "action.python",
                {"action": "test.record-call", "args": {"value": "{{ item }}"}},
            ),
        ],
        ["start>each", "each>body>send"],
    )
    tester = clocked_tester()
    result = run(document, None, tester)
    assert result.status == "completed", result.error
    assert calls == [1, 2, 3]
    assert result.elapsed >= timedelta(hours=2)


def test_parallel_branches_meet_at_a_join_with_every_output() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("fan", "logic.parallel"),
            ("a", "action.python", {"action": "test.record-call", "args": {"value": "a"}}),
            ("b", "action.python", {"action": "test.record-call", "args": {"value": "b"}}),
            ("c", "flow.transform", {"output": "c"}),
            ("join", "logic.join", {"mode": "all"}),
            ("out", "flow.transform", {"output": "{{ nodes.join.output }}"}),
        ],
        ["start>fan", "fan>a", "fan>b", "fan>c", "a>join", "b>join", "c>join", "join>out"],
    )
    result = run(document)
    assert result.status == "completed", result.error
    assert result.output == {"a": {"seen": "a"}, "b": {"seen": "b"}, "c": "c"}
    assert sorted(calls) == ["a", "b"]


def test_a_join_of_any_goes_on_with_the_first_branch() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("fan", "logic.parallel"),
            ("a", "flow.transform", {"output": "a"}),
            ("b", "flow.transform", {"output": "b"}),
            ("join", "logic.join", {"mode": "any"}),
            ("out", "flow.transform", {"output": "{{ nodes.join.output }}"}),
        ],
        ["start>fan", "fan>a", "fan>b", "a>join", "b>join", "join>out"],
    )
    result = run(document)
    assert result.output == {"a": "a"}
    assert result.step_names().count("out") == 1


def test_a_join_of_all_goes_on_when_a_condition_skipped_a_branch() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("check", "logic.condition", {"expression": "input.vip"}),
            ("gift", "flow.transform", {"output": "gift"}),
            ("join", "logic.join"),
            ("out", "flow.transform", {"output": "{{ nodes.join.output }}"}),
        ],
        ["start>check", "check>true>gift", "check>false>join", "gift>join", "join>out"],
    )
    assert run(document, {"vip": False}).output == {"check": False}


def test_a_failing_node_with_an_error_edge_goes_on_by_it_after_its_retries() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("charge", "action.python", {"action": "test.fail", "args": {"message": "declined"}}),
            ("sorry", "flow.transform", {"output": "{{ nodes.charge.output.message }}"}),
        ],
        ["start>charge", "charge>error>sorry"],
    )
    result = run(document)
    assert result.status == "completed", result.error
    assert result.output == "declined"
    assert calls == ["fail:declined", "fail:declined"]  # the action's own retry policy


def test_a_failure_without_an_error_edge_compensates_completed_nodes_newest_first() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            (
                "reserve",
                "action.python",
                {
                    "action": "test.record-call",
                    "args": {"value": "reserve"},
                    "compensation": "release",
                },
            ),
            (
                "charge",
                "action.python",
                {
                    "action": "test.record-call",
                    "args": {"value": "charge"},
                    "compensation": "refund",
                },
            ),
            ("ship", "action.python", {"action": "test.fail", "retry": {"max_attempts": 1}}),
            (
                "release",
                "action.python",
                {"action": "test.record-call", "args": {"value": "release"}},
            ),
            (
                "refund",
                "action.python",
                {"action": "test.record-call", "args": {"value": "refund"}},
            ),
        ],
        ["start>reserve", "reserve>charge", "charge>ship"],
    )
    result = run(document)
    assert result.status == "failed"
    assert calls == ["reserve", "charge", "fail:boom", "refund", "release"]
    assert result.step_names()[-2:] == ["refund:undo:charge", "release:undo:reserve"]


def test_a_wait_for_event_continues_with_the_event_or_by_timeout() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            (
                "wait",
                "flow.wait_event",
                {
                    "event_types": "Payment.received",
                    "match": {"order": "{{ input.order }}"},
                    "timeout": "2d",
                },
            ),
            ("paid", "flow.transform", {"output": "{{ nodes.wait.output.payload.amount }}"}),
            ("late", "flow.transform", {"output": "reminder"}),
        ],
        ["start>wait", "wait>paid", "wait>timeout>late"],
    )
    tester = clocked_tester()
    tester.send_event("Payment.received", {"order": 7, "amount": 30}, after=timedelta(hours=5))
    assert run(document, {"order": 7}, tester).output == 30
    timed_out = run(document, {"order": 8})
    assert timed_out.output == "reminder"
    assert timed_out.elapsed >= timedelta(days=2)


def test_a_delay_sleeps_durably() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("pause", "flow.delay", {"duration": "3h"}),
            ("after", "flow.transform", {"output": "done"}),
        ],
        ["start>pause", "pause>after"],
    )
    result = run(document)
    assert result.output == "done"
    assert result.elapsed >= timedelta(hours=3)


def test_a_replayed_run_does_not_repeat_completed_nodes() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("one", "action.python", {"action": "test.record-call", "args": {"value": 1}}),
            ("pause", "flow.delay", {"duration": 60}),
            ("two", "action.python", {"action": "test.record-call", "args": {"value": 2}}),
        ],
        ["start>one", "one>pause", "pause>two"],
    )
    tester = clocked_tester()
    tester.interrupt_after("one")
    result = run(document, None, tester)
    assert result.status == "completed"
    assert calls == [1, 2]
    assert result.advances > 1


def test_parallel_branches_wait_side_by_side() -> None:
    """Two waits on parallel branches run at the same time, in whichever order they settle."""
    document = graph(
        [
            ("start", "trigger.manual"),
            ("fan", "logic.parallel"),
            (
                "a",
                "flow.wait_event",
                {"event_types": "Check.done", "match": {"who": "a"}, "timeout": "2h"},
            ),
            (
                "b",
                "flow.wait_event",
                {"event_types": "Check.done", "match": {"who": "b"}, "timeout": "2h"},
            ),
            ("late-a", "flow.transform", {"output": "a timed out"}),
            (
                "got-b",
                "flow.transform",
                {"output": "{{ 'b at ' + string(nodes.b.output.payload.n) }}"},
            ),
            ("join", "logic.join"),
        ],
        ["start>fan", "fan>a", "fan>b", "a>timeout>late-a", "b>got-b", "late-a>join", "got-b>join"],
    )
    tester = clocked_tester()
    tester.send_event("Check.done", {"who": "b", "n": 1}, after=timedelta(minutes=30))
    result = run(document, None, tester)
    assert result.status == "completed", result.error
    assert result.output == {"late-a": "a timed out", "got-b": "b at 1"}
    assert timedelta(hours=2) <= result.elapsed < timedelta(hours=3)
    names = result.step_names()
    assert names.index("got-b") < names.index("late-a")  # b settled first


def test_parallel_delays_overlap() -> None:
    document = graph(
        [
            ("start", "trigger.manual"),
            ("fan", "logic.parallel"),
            ("one", "flow.delay", {"duration": "1h"}),
            ("two", "flow.delay", {"duration": "1h"}),
            ("join", "logic.join"),
        ],
        ["start>fan", "fan>one", "fan>two", "one>join", "two>join"],
    )
    result = run(document)
    assert result.status == "completed"
    assert timedelta(hours=1) <= result.elapsed < timedelta(hours=2)
