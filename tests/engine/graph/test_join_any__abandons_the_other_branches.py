"""A join of `any` (or `n`) goes on with the first branch, and the branches that lead only into
it are abandoned: their remaining steps never run, their waits stop holding the run, and an
approval they asked for is withdrawn from the inbox."""

import pytest
from django.test import Client

from engine.models import HumanTask, TaskStatus, Wait
from tests.designer.test_graph_api__draft_publish_run import bearer
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.graph.test_node_library__every_type_and_handle import publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def headers(make_user) -> dict[str, str]:
    """A designer who may run workflows; manny approves what the graphs ask."""
    make_user("manny", "approvers")
    return bearer(make_user, "dana", "designers", "operators")


def _post(path: str) -> dict:
    return {"method": "POST", "url": "{{ input.api }}" + path, "body": {}, "timeout": 5}


def test_the_losing_branch_runs_no_further_and_its_wait_holds_nothing(
    client: Client, headers: dict[str, str], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/slow", Reply(200, {"ok": True}))
    worker_server.route("POST", "/after-slow", Reply(200, {"ok": True}))
    race = graph(
        [
            ("start", "trigger.manual", {}),
            ("fork", "logic.parallel", {}),
            ("fast", "flow.transform", {"output": {"winner": "fast"}}),
            ("slow", "action.http", _post("/slow")),
            ("after", "action.http", _post("/after-slow")),
            ("never", "flow.wait_event", {"event_types": "Race.never"}),
            ("first", "logic.join", {"mode": "any"}),
            ("out", "flow.transform", {"output": "{{ nodes.first.output }}"}),
        ],
        [
            "start>fork",
            "fork>fast",
            "fork>slow",
            "fork>never",
            "fast>first",
            "slow>after",
            "after>first",
            "never>first",
            "first>out",
        ],
    )
    publish(client, headers, "test-join-any-race", race)
    run = start(client, headers, "test-join-any-race", {"api": worker_server.url().rstrip("/")})

    # No end node and a wait that never ends: still, the run completes with the winner.
    run = wait_for_status(run, "completed", timeout=20)
    assert run.output == {"fast": {"winner": "fast"}}
    # `slow` ran in the same wave as `fast`; what came after it did not.
    assert len(worker_server.requests_to("/slow")) == 1
    assert worker_server.requests_to("/after-slow") == []
    assert not Wait.objects.filter(run=run, status="waiting").exists()
    names = set(run.steps.values_list("name", flat=True))
    assert "after" not in names and "out" in names


def test_an_approval_that_lost_the_race_is_withdrawn(
    client: Client, headers: dict[str, str]
) -> None:
    race = graph(
        [
            ("start", "trigger.manual", {}),
            ("fork", "logic.parallel", {}),
            ("ask", "human.approval", {"title": "Go?", "assignees": {"users": ["manny"]}}),
            ("wait", "flow.delay", {"duration": 1}),
            ("either", "logic.join", {"mode": "any"}),
            ("linger", "flow.delay", {"duration": 3}),
            ("done", "flow.end", {"output": {"by": "{{ nodes.either.output }}"}}),
        ],
        [
            "start>fork",
            "fork>ask",
            "fork>wait",
            "ask>approved>either",
            "wait>either",
            "either>linger",
            "linger>done",
        ],
    )
    publish(client, headers, "test-join-any-withdraws", race)
    run = start(client, headers, "test-join-any-withdraws", {})

    # While the run lingers after the join, the approval is already out of the inbox.
    wait_until(lambda: run.steps.filter(name="linger:sleep").exists(), timeout=20, what="the join")
    task = HumanTask.objects.get(run=run)
    assert task.status == TaskStatus.WITHDRAWN
    # The sleep is journaled a moment before the advancer lets the run wait.
    wait_for_status(run, "waiting", "completed")
    run = wait_for_status(run, "completed", timeout=20)
    assert list(run.output["by"]) == ["wait"]
    assert "ask:withdraw" in set(run.steps.values_list("name", flat=True))


def test_an_approval_asked_in_the_same_wave_as_the_winner_is_withdrawn(
    client: Client, headers: dict[str, str]
) -> None:
    """The winner and the approval run side by side; the join fires before the approval waits."""
    race = graph(
        [
            ("start", "trigger.manual", {}),
            ("fork", "logic.parallel", {}),
            ("fast", "flow.transform", {"output": "fast"}),
            ("ask", "human.approval", {"title": "Too late?", "assignees": {"users": ["manny"]}}),
            ("either", "logic.join", {"mode": "any"}),
            ("done", "flow.end", {"output": "{{ nodes.either.output }}"}),
        ],
        [
            "start>fork",
            "fork>fast",
            "fork>ask",
            "fast>either",
            "ask>approved>either",
            "either>done",
        ],
    )
    publish(client, headers, "test-join-any-same-wave", race)
    run = wait_for_status(start(client, headers, "test-join-any-same-wave", {}), "completed")
    assert run.output == {"fast": "fast"}
    assert HumanTask.objects.get(run=run).status == TaskStatus.WITHDRAWN
    assert "ask:withdraw" in set(run.steps.values_list("name", flat=True))
