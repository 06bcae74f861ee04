"""Each step attempt keeps its input in StepRecord.detail["input"]: a graph node its config as
rendered from the run's scope (a secret only as `[secret NAME]`, never its value), a code step
its arguments; larger than STEPWISE_STEP_INPUT_BYTES it keeps its start and its full size. The
step API shows it, per attempt too."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import ApiToken
from engine.models import Run, StepRecord
from engine.outbound.grants import grant_secret
from engine.runtime.runs import start_run
from tests.conftest import WORKER_SECRET_NAME, WORKER_SECRET_VALUE
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def operator() -> dict[str, str]:
    user = User.objects.create(username="ines")
    user.groups.set([Group.objects.get_or_create(name=n)[0] for n in ("designers", "operators")])
    _, raw = ApiToken.issue(user, "ci")
    return {"Authorization": f"Bearer {raw}"}


def run_graph(
    client: Client, headers: dict[str, str], slug: str, document: dict[str, Any], input: Any
) -> Run:
    created = api(
        client, "post", "/api/workflows", headers, {"slug": slug, "title": slug, "graph": document}
    )
    assert created.json()["problems"] == [], created.json()
    assert api(client, "post", f"/api/workflows/{slug}/publish", headers, {}).status_code == 201
    started = api(client, "post", f"/api/workflows/{slug}/runs", headers, {"input": input})
    return wait_for_status(Run.objects.get(pk=started.json()["id"]), "completed")


def test_a_node_keeps_its_rendered_config_per_attempt_and_never_a_secret(
    client: Client, operator: dict[str, str], worker_server: LocalServer
) -> None:
    """An HTTP node that fails once then works keeps, on both attempts, its URL and body as
    rendered from the input, and its secret header as `[secret NAME]`; the server did receive
    the secret, and no journal row of the run holds it anywhere."""
    worker_server.route("POST", "/input-crm", Reply(503, {"busy": 1}), Reply(200, {"ok": 1}))
    grant_secret("input-secret", WORKER_SECRET_NAME, None)
    document = graph(
        [
            ("start", "trigger.manual"),
            (
                "call",
                "action.http",
                {
                    "method": "POST",
                    "url": worker_server.url("/input-crm") + "?who={{ input.name }}",
                    "headers": {"Authorization": "{{ secrets." + WORKER_SECRET_NAME + " }}"},
                    "body": {"customer": "{{ input.name }}", "total": "{{ input.total * 2 }}"},
                    "retry": {"max_attempts": 2, "initial_delay": 0, "jitter": 0},
                },
            ),
            ("out", "flow.end", {"output": "done"}),
        ],
        ["start>call", "call>out"],
    )
    run = run_graph(client, operator, "input-secret", document, {"name": "Ada", "total": 21})

    sent = worker_server.requests_to("/input-crm")
    assert [request.headers["authorization"] for request in sent] == [WORKER_SECRET_VALUE] * 2
    attempts = list(run.steps.filter(name="call").order_by("attempt"))
    assert [record.status for record in attempts] == ["retrying", "completed"]
    for record in attempts:
        kept = record.detail["input"]
        assert kept["url"] == worker_server.url("/input-crm") + "?who=Ada"
        assert kept["body"] == {"customer": "Ada", "total": 42}
        assert kept["headers"] == {"Authorization": f"[secret {WORKER_SECRET_NAME}]"}
        assert kept["method"] == "POST"
    everything = json.dumps(
        list(StepRecord.objects.filter(run=run).values("output", "error", "detail", "logs"))
    )
    assert WORKER_SECRET_VALUE not in everything

    shown = api(client, "get", f"/api/runs/{run.pk}/nodes/call", operator).json()
    assert shown["input_kept"] is True
    assert shown["input"]["body"] == {"customer": "Ada", "total": 42}
    assert [attempt["input"]["headers"] for attempt in shown["attempts"]] == [
        {"Authorization": f"[secret {WORKER_SECRET_NAME}]"}
    ] * 2


def test_an_input_over_the_bound_keeps_its_start_and_full_size(
    client: Client, operator: dict[str, str]
) -> None:
    """A transform rendering 40,000 characters keeps 16,384 bytes of its input (the default
    bound) with a note giving the full size; its output is untouched."""
    document = graph(
        [
            ("start", "trigger.manual"),
            ("shape", "flow.transform", {"output": {"blob": "{{ input.blob }}"}}),
            ("out", "flow.end", {"output": "{{ nodes.shape.output.blob.size() }}"}),
        ],
        ["start>shape", "shape>out"],
    )
    run = run_graph(client, operator, "input-bound", document, {"blob": "x" * 40_000})

    assert run.output == 40_000
    kept = run.steps.get(name="shape").detail["input"]
    assert kept["cut"] is True
    assert kept["size"] > 40_000
    assert len(kept["start"].encode()) == 16_384
    assert kept["start"].startswith('{"output": {"blob": "xxx')
    assert f"{kept['size']:,} bytes in full" in kept["note"]
    shown = api(client, "get", f"/api/runs/{run.pk}/nodes/shape", operator).json()
    assert shown["input"]["cut"] is True


@pytest.mark.usefixtures("side_effects_table")
def test_a_code_step_keeps_its_arguments_on_every_attempt() -> None:
    """An inline code step that fails twice then works keeps `{"args", "kwargs"}` on each of
    its three attempts, as a parallel step's dispatched arguments read."""
    run = wait_for_status(start_run("test-retry", {"fail_times": 2}), "completed")

    attempts = list(run.steps.filter(name="flaky").order_by("attempt"))
    assert [record.attempt for record in attempts] == [1, 2, 3]
    assert [record.detail["input"] for record in attempts] == [{"args": [2], "kwargs": {}}] * 3
