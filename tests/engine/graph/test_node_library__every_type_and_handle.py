"""Every node type of the library, and every output it can leave by, runs in at least one
graph published and started through the API on a real worker and timer loop.

The graphs here cover what the canvas demos (tests/designer/test_demo_graphs__*) do not: the
event, schedule and webhook triggers (started through the API, as their own triggering comes
later), HTTP, AI, records queried, events emitted and waited for or timed out, sub-workflows of
a graph and of a code workflow, an error edge, delays, variables and joins of any and n.
"""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from designer.demo_graphs import DEMO_GRAPHS
from engine.graph.nodes import ERROR, NORMAL, all_node_types, get_node_type
from engine.models import MachineEvent, MachineInstance, Record, Run, Wait
from tests.conftest import AI_TEST_MODEL
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.machines.helpers import wait_applied
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def server(worker_server: LocalServer) -> LocalServer:
    """The session's server the worker may call; each test scripts its own answers."""
    return worker_server


@pytest.fixture
def operator() -> dict[str, str]:
    """A designer who may also run workflows (no password: tokens only, no slow hashing)."""
    user = User.objects.create(username="nadia")
    user.groups.set(
        [Group.objects.get_or_create(name=name)[0] for name in ("designers", "operators")]
    )
    _, raw = ApiToken.issue(user, "ci")
    return {"Authorization": f"Bearer {raw}"}


def publish(client: Client, headers: dict[str, str], slug: str, document: dict[str, Any]) -> None:
    created = api(
        client, "post", "/api/workflows", headers, {"slug": slug, "title": slug, "graph": document}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["problems"] == []
    published = api(client, "post", f"/api/workflows/{slug}/publish", headers, {})
    assert published.status_code == 201, published.json()


def start(client: Client, headers: dict[str, str], slug: str, input: Any) -> Run:
    started = api(client, "post", f"/api/workflows/{slug}/runs", headers, {"input": input})
    assert started.status_code == 201, started.json()
    return Run.objects.get(pk=started.json()["id"])


def step_names(run: Run) -> list[str]:
    return list(run.steps.filter(kind="step").order_by("seq").values_list("name", flat=True))


# --- the graphs ---------------------------------------------------------------------------

CHILD = graph(
    [
        ("start", "trigger.manual"),
        ("score", "action.python", {"action": "demo.score-lead", "args": {"lead": "{{ input }}"}}),
        ("out", "flow.end", {"output": {"child": "{{ nodes.score.output }}"}}),
    ],
    ["start>score", "score>out"],
)
"""A graph run as a sub-workflow."""

HUB = graph(
    [
        ("start", "trigger.manual"),
        ("fork", "logic.parallel"),
        (
            "charge",
            "action.python",
            {"action": "demo.charge-card", "args": {"amount": 5, "card": "declined"}},
        ),
        (
            "declined",
            "flow.transform",
            {"output": {"handled": "{{ nodes.charge.output.message }}"}},
        ),
        ("graph_child", "flow.subworkflow", {"workflow": "nodes-child", "input": {"title": "CTO"}}),
        (
            "code_child",
            "flow.subworkflow",
            {"workflow": "verify-email", "input": "{{ input.email }}"},
        ),
        ("two", "logic.join", {"mode": "n", "count": 2}),
        ("pause", "flow.delay", {"duration": "0.5s"}),
        (
            "out",
            "flow.end",
            {
                "output": {
                    "joined": "{{ nodes.two.output }}",
                    "declined": "{{ nodes.declined.output }}",
                    "paused_until": "{{ nodes.pause.output.until }}",
                }
            },
        ),
    ],
    [
        "start>fork",
        "fork>charge",
        "fork>graph_child",
        "fork>code_child",
        "charge>error>declined",
        "declined>two",
        "graph_child>two",
        "code_child>two",
        "two>pause",
        "pause>out",
    ],
)
"""Parallel branches: a failing action caught by its error edge, two sub-workflows; a join
that goes on after two of the three, then a durable delay."""

WAITER = graph(
    [
        ("start", "trigger.manual"),
        ("remember", "flow.set", {"values": {"key": "{{ input.key }}"}}),
        ("fork", "logic.parallel"),
        (
            "wait",
            "flow.wait_event",
            {"event_types": "Ping.sent", "match": {"key": "{{ vars.key }}"}},
        ),
        ("quiet", "flow.wait_event", {"event_types": ["Ping.never"], "timeout": 3}),
        ("late", "flow.transform", {"output": {"timed_out": True}}),
        ("first", "logic.join", {"mode": "any"}),
        ("winner", "flow.transform", {"output": "{{ nodes.first.output }}"}),
        ("both", "logic.join", {"mode": "all"}),
        (
            "out",
            "flow.end",
            {
                "output": {
                    "key": "{{ vars.key }}",
                    "event": "{{ nodes.wait.output.payload }}",
                    "first": "{{ nodes.winner.output }}",
                    "late": "{{ nodes.late.output }}",
                }
            },
        ),
    ],
    [
        "start>remember",
        "remember>fork",
        "fork>wait",
        "fork>quiet",
        "wait>first",
        "quiet>timeout>late",
        "late>first",
        "first>winner",
        "wait>both",
        "late>both",
        "both>out",
    ],
)
"""Waits side by side for a Ping.sent event with its key and for one that never comes (it times
out after 3 s): a join of any goes on with the ping, a join of all with both."""

PINGER = graph(
    [
        ("start", "trigger.event", {"event_types": ["Ping.requested"]}),
        ("note", "action.log", {"message": "pinging {{ input.key }}", "level": "warning"}),
        ("ping", "action.emit", {"type": "Ping.sent", "payload": {"key": "{{ input.key }}"}}),
        ("out", "flow.end", {"output": "{{ nodes.ping.output.payload }}"}),
    ],
    ["start>note", "note>ping", "ping>out"],
)
"""Logs a line, then emits the event the waiter waits for."""

SCHEDULED = graph(
    [
        (
            "start",
            "trigger.schedule",
            {"cron": "0 6 * * 1-5", "timezone": "Europe/Paris", "input": {"source": "cron"}},
        ),
        (
            "save",
            "action.record",
            {
                "operation": "create",
                "collection": "Leads",
                "key": "{{ input.key }}",
                "data": {"source": "{{ input.source }}", "name": "{{ input.name }}"},
            },
        ),
        (
            "find",
            "action.record",
            {
                "operation": "query",
                "collection": "Leads",
                "where": {"source": "{{ input.source }}"},
                "order_by": "key",
            },
        ),
        ("out", "flow.end", {"output": "{{ nodes.find.output.records.map(r, r.key) }}"}),
    ],
    ["start>save", "save>find", "find>out"],
)
"""Creates a record, then queries the collection for the records like it."""

LEAD_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["segment"],
    "properties": {"segment": {"enum": ["enterprise", "smb"]}},
}

WEBHOOK = graph(
    [
        ("start", "trigger.webhook", {"endpoint": "nodes-hook"}),
        (
            "call",
            "action.http",
            {
                "method": "POST",
                "url": "{{ input.crm }}/crm/leads",
                "body": {"name": "{{ input.name }}"},
                "timeout": 5,
            },
        ),
        ("summary", "action.ai", {"prompt": "Summarise {{ nodes.call.output.body.name }}"}),
        (
            "classify",
            "action.ai",
            {
                "prompt": "Which segment is {{ nodes.call.output.body.name }}?",
                "output": "json",
                "schema": LEAD_SCHEMA,
            },
        ),
        (
            "mail",
            "action.email",
            {
                "to": ["{{ input.email }}"],
                "subject": (
                    "Lead {{ nodes.call.output.body.id }} is "
                    "{{ nodes.classify.output.data.segment }}"
                ),
                "body": "{{ nodes.summary.output.text }}",
            },
        ),
        (
            "out",
            "flow.end",
            {
                "output": {
                    "lead": "{{ nodes.call.output.body }}",
                    "summary": "{{ nodes.summary.output.text }}",
                    "segment": "{{ nodes.classify.output.data.segment }}",
                    "mailed": "{{ nodes.mail.output.to }}",
                }
            },
        ),
    ],
    ["start>call", "call>summary", "summary>classify", "classify>mail", "mail>out"],
)
"""Calls an API, asks a model for text and for JSON, mails the result."""

MACHINE_DRIVER = graph(
    [
        ("start", "trigger.manual"),
        (
            "ensure",
            "machine.start",
            {"machine": "test-toggle", "key": "{{ input.key }}", "context": {"seen": []}},
        ),
        (
            "tick",
            "machine.send",
            {"machine": "test-toggle", "key": "{{ input.key }}", "event": "tick", "data": {"n": 7}},
        ),
        ("out", "flow.end", {"output": {"created": "{{ nodes.ensure.output.created }}"}}),
    ],
    ["start>ensure", "ensure>tick", "tick>out"],
)
"""Makes sure a toggle machine's instance exists and sends it one tick."""

GRAPHS = {
    "nodes-machine-driver": MACHINE_DRIVER,
    "nodes-child": CHILD,
    "nodes-hub": HUB,
    "nodes-waiter": WAITER,
    "nodes-pinger": PINGER,
    "nodes-scheduled": SCHEDULED,
    "nodes-webhook": WEBHOOK,
}


# --- the runs -----------------------------------------------------------------------------


def test_errors_sub_workflows_joins_of_n_and_delays(
    client: Client, operator: dict[str, str]
) -> None:
    publish(client, operator, "nodes-child", CHILD)
    publish(client, operator, "nodes-hub", HUB)
    run = start(client, operator, "nodes-hub", {"email": "ada@example.com"})
    run = wait_for_status(run, "completed")

    assert run.output["declined"] == {"handled": "the bank declined the card for 5"}
    # The error branch arrives at once; the join goes on with the first child that finishes.
    joined = run.output["joined"]
    assert len(joined) == 2 and joined["declined"] == run.output["declined"]
    children_outputs = {
        "graph_child": {"child": {"score": 70, "grade": "B"}},
        "code_child": {"email": "ada@example.com", "valid": True, "mx": "mx.example.com"},
    }
    (child_id,) = set(joined) - {"declined"}
    assert joined[child_id] == children_outputs[child_id]
    charge = run.steps.get(name="charge")
    assert charge.status == "completed" and charge.output["handle"] == ERROR
    children = Run.objects.filter(parent=run).order_by("workflow")
    # Both children ran side by side; one that had not finished when the run ended is cancelled.
    assert [(child.workflow, child.kind) for child in children] == [
        ("nodes-child", "graph"),
        ("verify-email", "code"),
    ]
    assert "completed" in {child.status for child in children}
    sleep = run.steps.get(name="pause:sleep")
    assert sleep.finished_at is not None
    assert (sleep.finished_at - sleep.started_at).total_seconds() >= 0.4
    names = step_names(run)
    assert names[-2:] == ["pause", "out"] and "two" in names


@pytest.mark.usefixtures("side_effects_table")  # the toggle's tick records its effect
def test_a_graph_starts_a_machine_instance_and_sends_it_an_event(
    client: Client, operator: dict[str, str]
) -> None:
    publish(client, operator, "nodes-machine-driver", MACHINE_DRIVER)
    first = wait_for_status(
        start(client, operator, "nodes-machine-driver", {"key": "m-1"}), "completed"
    )
    assert first.output == {"created": True}
    instance = MachineInstance.objects.get(machine="test-toggle", key="m-1")
    wait_applied(instance.pk, count=2)
    instance.refresh_from_db()
    assert (instance.state, instance.context["seen"]) == ("odd", [7])
    # Again: the instance exists already, and the tick is one more event.
    second = wait_for_status(
        start(client, operator, "nodes-machine-driver", {"key": "m-1"}), "completed"
    )
    assert second.output == {"created": False}
    wait_applied(instance.pk, count=3)
    instance.refresh_from_db()
    assert (instance.state, instance.context["seen"]) == ("even", [7, 7])
    sent = MachineEvent.objects.filter(instance=instance, name="tick")
    assert sent.count() == 2 and {event.source for event in sent} == {"workflow"}


def test_an_emitted_event_wakes_a_waiting_run_and_a_wait_without_one_times_out(
    client: Client, operator: dict[str, str]
) -> None:
    publish(client, operator, "nodes-waiter", WAITER)
    publish(client, operator, "nodes-pinger", PINGER)
    other = start(client, operator, "nodes-waiter", {"key": "k-2"})
    waiter = start(client, operator, "nodes-waiter", {"key": "k-1"})
    # "waiting" comes first for the parallel branches; the event wait is registered after.
    waits = Wait.objects.filter(run=waiter, event_type="Ping.sent", match={"key": "k-1"})
    wait_until(waits.exists, timeout=20, what="the run to wait for Ping.sent")

    pinger = start(client, operator, "nodes-pinger", {"key": "k-1"})
    assert pinger.trigger == "api"
    assert wait_for_status(pinger, "completed").output == {"key": "k-1"}
    [line] = pinger.steps.get(name="note").logs
    assert (line["level"], line["message"]) == ("warning", "pinging k-1")
    waiter = wait_for_status(waiter, "completed")
    first = waiter.output.pop("first")
    assert waiter.output == {"key": "k-1", "event": {"key": "k-1"}, "late": {"timed_out": True}}
    assert list(first) == ["wait"]  # the join of any went on with the ping alone
    assert first["wait"]["type"] == "Ping.sent"
    # k-2 was not pinged: its own quiet wait timed out too (at about the waiter's time, so it
    # may still be moving on from it), and then it waits for its ping alone.
    other = wait_for_status(other, "waiting")
    assert Wait.objects.filter(run=other, status="waiting", match={"key": "k-2"}).exists()
    api(client, "post", f"/api/runs/{other.pk}/cancel", operator)


def test_a_scheduled_graph_started_by_hand_creates_and_queries_records(
    client: Client, operator: dict[str, str]
) -> None:
    now = timezone.now()
    for key, source in [("a-0", "cron"), ("z-9", "import")]:
        Record.objects.create(
            collection="Leads", key=key, data={"source": source}, created_at=now, updated_at=now
        )
    publish(client, operator, "nodes-scheduled", SCHEDULED)
    run = start(
        client, operator, "nodes-scheduled", {"key": "m-5", "source": "cron", "name": "Lin"}
    )
    assert wait_for_status(run, "completed").output == ["a-0", "m-5"]
    assert Record.objects.get(collection="Leads", key="m-5").data == {
        "source": "cron",
        "name": "Lin",
    }


def test_a_webhook_graph_started_by_hand_calls_http_and_ai_then_mails(
    client: Client, operator: dict[str, str], server: LocalServer, celery_worker: RunningProcess
) -> None:
    server.route("POST", "/crm/leads", Reply(201, {"id": 77, "name": "Initech"}))
    server.chat("Initech makes TPS reports.", {"segment": "enterprise"})
    publish(client, operator, "nodes-webhook", WEBHOOK)
    run = start(
        client,
        operator,
        "nodes-webhook",
        {"crm": server.url(), "name": "Initech", "email": "sales@example.com"},
    )
    run = wait_for_status(run, "completed")
    assert run.output == {
        "lead": {"id": 77, "name": "Initech"},
        "summary": "Initech makes TPS reports.",
        "segment": "enterprise",
        "mailed": ["sales@example.com"],
    }
    (created,) = server.requests_to("/crm/leads")
    assert created.json() == {"name": "Initech"}
    assert created.headers["idempotency-key"]
    prompts = [request.json() for request in server.requests_to("/v1/chat/completions")]
    assert [prompt["model"] for prompt in prompts] == [AI_TEST_MODEL, AI_TEST_MODEL]
    assert prompts[0]["messages"] == [{"role": "user", "content": "Summarise Initech"}]
    assert prompts[1]["response_format"]["json_schema"]["schema"] == LEAD_SCHEMA
    assert "Subject: Lead 77 is enterprise" in celery_worker.log()


# --- the list of what is covered ------------------------------------------------------------

RUN_BY_THE_DEMO_TESTS = {demo.slug: demo.graph for demo in DEMO_GRAPHS}
"""tests/designer/test_demo_graphs__* run each demo down each of its branches."""


def _covered() -> set[tuple[str, str]]:
    """(node type, handle) for every node of the graphs run here and by the demo tests; the
    handle "*" means the node is there (a flow.end has no output to leave by)."""
    found: set[tuple[str, str]] = set()
    for document in [*GRAPHS.values(), *RUN_BY_THE_DEMO_TESTS.values()]:
        types = {node["id"]: node for node in document["nodes"]}
        for node in document["nodes"]:
            found.add((node["type"], "*"))
        for edge in document["edges"]:
            source = types[edge["source"]]
            handle = edge.get("handle") or NORMAL
            if source["type"] == "logic.switch" and handle not in ("default", ERROR):
                handle = "<case>"
            found.add((source["type"], handle))
    return found


def test_the_graphs_run_cover_every_node_type_and_every_handle() -> None:
    """A node type or handle added to the library fails this until a test runs it."""
    covered = _covered()
    missing = []
    for node_type in all_node_types():
        if node_type.type == "logic.switch":
            wanted = {"<case>", "default"}
        else:
            wanted = set(node_type.handles({})) - {ERROR}
        for handle in {"*", *wanted}:
            if (node_type.type, handle) not in covered:
                missing.append(f"{node_type.type} {handle or '(normal)'}")
    assert missing == []
    failing = [kind for kind, handle in covered if handle == ERROR]
    assert failing, "no test takes an error edge"
    assert all(getattr(get_node_type(kind), "error_handling", False) for kind in failing)
