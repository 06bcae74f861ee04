"""Event types with the engine's nouns (Task.*, Run.*, Step.*, Stepwise.*) and event ids with the
engine's prefixes (`stepwise:`, `webhook:`) are refused wherever they come from outside: the events
API, graph nodes, workflow code and webhook endpoints. Errors name the field or the type, nothing
is stored, and the engine's own ids still work, so no outsider can take one first."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.core import emit, on, wait_for, wait_for_any, workflow
from engine.core.errors import DefinitionError, NonRetryableError
from engine.core.testing import WorkflowTester
from engine.core.triggers import event_id_problem, event_type_problem
from engine.graph.nodes.base import NodeContext
from engine.graph.nodes.library import get_node_type
from engine.graph.validate import validate_graph
from engine.inbound.events import EventInputError, deliver_event
from engine.inbound.webhook_endpoints import create_endpoint
from engine.inbound.webhooks import WebhookError, process_delivery
from engine.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from tests.engine.graph.graphs import graph
from tests.engine.webhook_signing import deliver

RESERVED_HINT = "is reserved for the engine's own events (Task.*, Run.*, Step.*, Stepwise.*)"
TASK_DECIDED = (
    f"'Task.decided' {RESERVED_HINT}; "
    "decide tasks in the inbox or with POST /api/tasks/{id}/decide"
)


def bearer(make_user: Any, username: str, *roles: str) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user(username, *roles), "ci")
    return {"Authorization": f"Bearer {raw}"}


def api(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return getattr(client, method)(path, body, content_type="application/json", headers=headers)


# --- the rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Task.decided", "Run.completed", "Step.failed", "Stepwise.ping"])
def test_the_engines_nouns_are_reserved_and_the_problem_names_the_type(name: str) -> None:
    problem = event_type_problem(name)
    assert problem is not None and problem.startswith(f"{name!r} {RESERVED_HINT}")
    assert ("POST /api/tasks/{id}/decide" in problem) == name.startswith("Task.")


@pytest.mark.parametrize("name", ["Order.created", "Tasks.decided", "Runner.started"])
def test_other_nouns_are_free(name: str) -> None:
    assert event_type_problem(name) is None


@pytest.mark.parametrize(
    ("event_id", "words"),
    [
        ("stepwise:1:2:x", "ids starting with 'stepwise:' are reserved"),
        ("webhook:x:1", "ids starting with 'webhook:' are reserved"),
        ("", "a string of 1 to 200 characters"),
        ("x" * 201, "a string of 1 to 200 characters"),
        (7, "a string of 1 to 200 characters"),
    ],
)
def test_reserved_prefixes_and_bad_ids_are_refused(event_id: Any, words: str) -> None:
    problem = event_id_problem(event_id)
    assert problem is not None and words in problem


@pytest.mark.parametrize("event_id", ["order-7", "my-stepwise:1", "x" * 200])
def test_other_ids_are_free(event_id: str) -> None:
    assert event_id_problem(event_id) is None


# --- workflow code --------------------------------------------------------------------------
@workflow("test-reserved-emits-task-decided")
def emits_task_decided(_: Any) -> Any:
    return emit("Task.decided", {"task": 1, "outcome": "approved"})


@workflow("test-reserved-emits-engine-id")
def emits_engine_id(_: Any) -> Any:
    return emit("Parcel.sent", {}, id="stepwise:x")


@workflow("test-reserved-waits-task-decided")
def waits_task_decided(_: Any) -> Any:
    return wait_for("Task.decided")


@workflow("test-reserved-waits-any-step")
def waits_any_step(_: Any) -> Any:
    return wait_for_any(["Parcel.sent", "Step.failed"])


@workflow("test-reserved-emits-ids")
def emits_ids(_: Any) -> list[str]:
    return [emit("Parcel.sent", {})["id"], emit("Parcel.sent", {}, id="parcel-7")["id"]]


def test_a_code_subscription_to_a_reserved_type_is_refused_when_declared() -> None:
    with pytest.raises(DefinitionError, match=r"'Task\.decided' is reserved"):
        on.Task.decided  # noqa: B018 (the attribute access itself declares the type)
    with pytest.raises(DefinitionError, match=r"'Run\.completed' is reserved"):
        on("Order.created", "Run.completed")


@pytest.mark.parametrize(
    ("flow", "words"),
    [
        (emits_task_decided, f"event type: {TASK_DECIDED}"),
        (waits_task_decided, f"wait_for(): {TASK_DECIDED}"),
        (waits_any_step, f"wait_for(): 'Step.failed' {RESERVED_HINT}"),
        (emits_engine_id, "emit(id=...): ids starting with 'stepwise:' are reserved"),
    ],
)
def test_emitting_or_waiting_for_what_is_reserved_fails_the_run(flow: Any, words: str) -> None:
    tester = WorkflowTester()
    run = tester.run(flow)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["type"] == "engine.core.errors.DefinitionError"
    assert run.error["message"].startswith(words)
    assert tester.emitted == []


def test_emit_ids_are_the_authors_or_else_the_steps_idempotency_key() -> None:
    tester = WorkflowTester()
    run = tester.run(emits_ids)
    assert run.status == "completed"
    assert run.output is not None
    engine_id, own_id = run.output
    assert engine_id.startswith(f"stepwise:{run.id}:") and own_id == "parcel-7"
    assert [event["id"] for event in tester.emitted] == run.output


# --- graph nodes ----------------------------------------------------------------------------
def test_graph_nodes_on_reserved_types_are_problems_naming_the_node_and_field() -> None:
    document = graph(
        [
            ("start", "trigger.event", {"event_types": ["Parcel.sent", "Task.decided"]}),
            ("wait", "flow.wait_event", {"event_types": ["Run.completed"]}),
            ("wait_one", "flow.wait_event", {"event_types": "Step.failed"}),
            ("send", "action.emit", {"type": "Task.decided", "id": "stepwise:{{ input.n }}"}),
            ("done", "flow.end"),
        ],
        ["start>wait", "wait>wait_one", "wait_one>send", "send>done"],
    )
    found = [(p.node, p.field, p.message) for p in validate_graph(document)]
    assert found == [
        ("start", "config.event_types[1]", TASK_DECIDED),
        ("wait", "config.event_types[0]", f"'Run.completed' {RESERVED_HINT}"),
        ("wait_one", "config.event_types", f"'Step.failed' {RESERVED_HINT}"),
        ("send", "config.type", TASK_DECIDED),
    ]


@pytest.mark.django_db
def test_a_graph_on_a_reserved_type_cannot_be_published(client: Client, make_user: Any) -> None:
    designer = bearer(make_user, "dana", "designers")
    on_decision = graph(
        [
            ("start", "trigger.event", {"event_types": ["Task.decided"]}),
            ("done", "flow.end"),
        ],
        ["start>done"],
    )
    created = api(
        client,
        "post",
        "/api/workflows",
        designer,
        {"slug": "on-decision", "title": "On decision", "graph": on_decision},
    )
    assert created.status_code == 201, created.json()
    [problem] = created.json()["problems"]
    assert (problem["node"], problem["field"]) == ("start", "config.event_types[0]")
    assert "'Task.decided' is reserved" in problem["message"]
    checked = api(client, "post", "/api/workflows/on-decision/validate", designer, {}).json()
    assert checked == {"valid": False, "problems": [problem]}
    refused = api(client, "post", "/api/workflows/on-decision/publish", designer, {})
    assert refused.status_code == 422


@pytest.mark.django_db
def test_an_emit_node_whose_rendered_id_is_reserved_fails_for_good_naming_the_field() -> None:
    node_type = get_node_type("action.emit")
    assert node_type is not None and node_type.execute is not None
    config = {"type": "Parcel.sent", "id": "webhook:{{ input.n }}"}
    context = NodeContext("send", config, {"input": {"n": 4}}, 0, "stepwise:5:1:send")
    with pytest.raises(NonRetryableError) as raised:
        node_type.execute(context)
    assert str(raised.value).startswith(
        'node "send", field "id": ids starting with \'webhook:\' are reserved'
    )
    assert not Event.objects.exists()
    own = node_type.execute(
        NodeContext("send", {"type": "Parcel.sent"}, {}, 0, "stepwise:5:1:send")
    )
    assert own.output["id"] == "stepwise:5:1:send"


# --- the events API and the mailbox ---------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"type": "Task.decided", "payload": {"task": 1, "outcome": "approved"}},
            f"type: 'Task.decided' {RESERVED_HINT}",
        ),
        (
            {"type": "Parcel.sent", "id": "stepwise:1:2:x"},
            "id: ids starting with 'stepwise:' are reserved",
        ),
        ({"type": "Parcel.sent", "id": "webhook:x:1"}, "id: ids starting with 'webhook:' are"),
    ],
)
def test_posting_a_reserved_type_or_id_is_a_422_naming_the_field_and_stores_nothing(
    client: Client, make_user: Any, body: dict[str, Any], detail: str
) -> None:
    operator = bearer(make_user, "otto", "operators")
    refused = api(client, "post", "/api/events", operator, body)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(detail)
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_an_engine_id_cannot_be_taken_first_so_the_engines_own_event_is_stored() -> None:
    with pytest.raises(EventInputError) as raised:
        deliver_event("Parcel.sent", {"forged": True}, event_id="stepwise:9:1:emit")
    assert raised.value.field == "id"
    delivery = deliver_event("Parcel.sent", {}, internal_id="stepwise:9:1:emit")
    assert delivery.created and delivery.event.event_id == "stepwise:9:1:emit"
    assert deliver_event("Parcel.sent", {}, internal_id="stepwise:9:1:emit").created is False
    chosen = deliver_event("Parcel.sent", {}, event_id="parcel-1", internal_id="stepwise:9:2:x")
    assert chosen.event.event_id == "parcel-1"


# --- webhooks -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_webhook_endpoint_with_a_reserved_type_is_refused_naming_the_field(
    client: Client, make_user: Any, admin_client: Client
) -> None:
    with pytest.raises(WebhookError) as raised:
        create_endpoint("test-forger", event_type="Task.decided")
    assert raised.value.field == "event_type"
    operator = bearer(make_user, "hana", "operators")
    body = {"slug": "test-forger", "event_type": "Task.decided"}
    refused = api(client, "post", "/api/webhooks", operator, body)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(f"event_type: 'Task.decided' {RESERVED_HINT}")
    page = admin_client.post(
        "/admin/engine/webhookendpoint/add/",
        {**body, "tolerance_seconds": "300", "max_body_bytes": "1000000"},
    )
    assert page.status_code == 200
    assert "'Task.decided' is reserved" in page.context["adminform"].form.errors["event_type"][0]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_webhook_delivery_keeps_its_id_though_an_outsider_tried_it_first(client: Client) -> None:
    _, secret = create_endpoint("test-bank", event_type="Remittance.received")
    with pytest.raises(EventInputError):
        deliver_event("Remittance.received", {"forged": True}, event_id="webhook:test-bank:tx-1")
    assert (
        deliver(client, "test-bank", secret, {"amount": 3}, delivery_id="tx-1").status_code == 202
    )
    delivery = process_delivery(WebhookDelivery.objects.get(delivery_id="tx-1").pk)
    assert delivery is not None and delivery.status == DeliveryStatus.PROCESSED
    event = Event.objects.get()
    assert (event.event_id, event.payload) == ("webhook:test-bank:tx-1", {"amount": 3})
