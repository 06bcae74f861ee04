"""An action node's `retry.non_retryable` names kinds of error that fail the node at once: a
graph run (in the workflow test harness) tries a 503 answer once when "server_error" is ticked
and three times when it is not, and a Python action's own error once when "other" is ticked;
`retry.retry_on` names the only kinds retried: a 503 then a 200 fails after one request when
only "timeout" is named and succeeds on the second when "server_error" is; each node error says
its kind, a rate limit's deferral is waited for whatever is ticked, and validation names the
node and the field of a kind that does not exist, and `retry_on` when both lists are given."""

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from django.test import override_settings

from engine.core import Retry, action
from engine.core.error_kinds import ERROR_KINDS, error_kind
from engine.core.errors import CircuitOpen, DefinitionError, RateLimited, StepTimeout
from engine.core.testing import TestRun, WorkflowTester
from engine.graph.interpreter import graph_workflow
from engine.graph.nodes.ai import AiOutputInvalid, AiRequestFailed
from engine.graph.nodes.email import EmailSendFailed
from engine.graph.nodes.http import (
    HttpRequestFailed,
    HttpRequestTimedOut,
    HttpStatusError,
)
from engine.graph.resolver import load_program
from engine.graph.validate import validate_graph
from engine.models import GraphVersion
from engine.outbound.netguard import HostNotFound
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply

pytestmark = pytest.mark.django_db

_versions = count(1)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
calls: list[str] = []


@action("test.kinds-broken")
def broken() -> None:
    calls.append("broken")
    raise RuntimeError("the action's own bug")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with (
        LocalServer() as running,
        override_settings(STEPWISE_HTTP_ALLOWLIST=[f"127.0.0.1:{running.port}"]),
    ):
        yield running


def run(node_type: str, config: dict[str, Any]) -> TestRun:
    document = graph([("start", "trigger.manual"), ("call", node_type, config)], ["start>call"])
    assert validate_graph(document) == []
    number = next(_versions)
    GraphVersion.objects.create(
        workflow="kinds-graph", number=number, title="Kinds", graph=document, published_at=_EPOCH
    )
    program = load_program("kinds-graph", f"v{number}")
    assert program is not None
    return WorkflowTester(start=datetime.now(UTC)).run(graph_workflow(program), {})


def call(server: LocalServer, retry: dict[str, Any], *replies: Reply) -> tuple[str, int]:
    """A run's status and how many requests it sends to an endpoint answering `replies` in
    turn (the last one repeats)."""
    server.route("POST", "/sync", *replies)
    before = len(server.requests_to("/sync"))
    result = run("action.http", {"method": "POST", "url": server.url("/sync"), "retry": retry})
    return result.status, len(server.requests_to("/sync")) - before


def call_503(server: LocalServer, retry: dict[str, Any]) -> int:
    """How many requests a run sends to an endpoint that always answers 503."""
    status, sent = call(server, retry, Reply(503))
    assert status == "failed"
    return sent


def test_a_ticked_kind_fails_the_node_at_once(server: LocalServer) -> None:
    waits = {"max_attempts": 3, "initial_delay": "1s", "jitter": 0}
    assert call_503(server, waits) == 3  # none ticked: today's behaviour
    assert call_503(server, {**waits, "non_retryable": ["timeout", "connection"]}) == 3
    assert call_503(server, {**waits, "non_retryable": ["server_error"]}) == 1


def test_retry_on_retries_only_the_kinds_it_names(server: LocalServer) -> None:
    waits = {"max_attempts": 3, "initial_delay": "1s", "jitter": 0}
    flaky = (Reply(503), Reply(200, {"ok": True}))
    assert call(server, waits, *flaky) == ("completed", 2)  # none named: today's behaviour
    assert call(server, {**waits, "retry_on": ["timeout"]}, *flaky) == ("failed", 1)
    assert call(server, {**waits, "retry_on": ["timeout", "server_error"]}, *flaky) == (
        "completed",
        2,
    )
    assert call_503(server, {**waits, "retry_on": ["server_error"]}) == 3  # still bounded


def test_other_covers_a_python_actions_own_errors() -> None:
    calls.clear()
    retry = {"max_attempts": 3, "initial_delay": "1s", "jitter": 0}
    assert run("action.python", {"action": "test.kinds-broken", "retry": retry}).status == "failed"
    assert calls == ["broken"] * 3
    calls.clear()
    ticked = {**retry, "non_retryable": ["other"]}
    assert run("action.python", {"action": "test.kinds-broken", "retry": ticked}).status == "failed"
    assert calls == ["broken"]
    calls.clear()
    only_timeouts = {**retry, "retry_on": ["timeout"]}
    result = run("action.python", {"action": "test.kinds-broken", "retry": only_timeouts})
    assert result.status == "failed"
    assert calls == ["broken"]


def test_each_node_error_says_its_kind() -> None:
    found = {
        "server_error": [HttpStatusError("503", 503), AiRequestFailed("503"), EmailSendFailed("4")],
        "connection": [
            HttpRequestFailed("refused"),
            HostNotFound("nowhere"),
            AiRequestFailed("down", "connection"),
            EmailSendFailed("down", "connection"),
        ],
        "timeout": [StepTimeout("slow"), HttpRequestTimedOut("slow"), TimeoutError()],
        "circuit_open": [CircuitOpen("crm", 5.0)],
        "rate_limited": [RateLimited("crm", "", 5.0, defers=False)],
        "invalid_answer": [AiOutputInvalid("not the schema")],
        "other": [RuntimeError("bug"), KeyError("x")],
    }
    assert set(found) == set(ERROR_KINDS)
    for kind, errors in found.items():
        assert [error_kind(error) for error in errors] == [kind] * len(errors)


def test_code_names_kinds_and_a_wrong_one_fails_at_declaration() -> None:
    policy = Retry(non_retryable_kinds={"timeout"})  # type: ignore[arg-type]
    assert policy.non_retryable_kinds == frozenset({"timeout"}) and hash(policy)
    with pytest.raises(DefinitionError, match="no error kind 'teapot'"):
        Retry(non_retryable_kinds=frozenset({"teapot"}))
    with pytest.raises(DefinitionError, match="a set of error kinds"):
        Retry(non_retryable_kinds="timeout")  # type: ignore[arg-type]


def test_a_rate_limits_deferral_is_waited_for_whatever_is_ticked() -> None:
    policy = Retry(max_attempts=3, non_retryable_kinds=frozenset(ERROR_KINDS))
    assert policy.should_retry(RateLimited("crm", "", 5.0, defers=True), 1)
    assert not policy.should_retry(RateLimited("crm", "", 5.0, defers=False), 1)


def test_validation_names_the_node_and_the_field() -> None:
    def problems(kinds: object, key: str = "non_retryable", **more: object) -> list[Any]:
        retry = {key: kinds, **more}
        document = graph(
            [
                ("start", "trigger.manual"),
                ("charge", "action.python", {"action": "x", "retry": retry}),
            ],
            ["start>charge"],
        )
        return [(p.node, p.field) for p in validate_graph(document) if p.node == "charge"]

    def messages(retry: dict[str, Any]) -> list[tuple[str | None, str]]:
        node = ("charge", "action.python", {"action": "x", "retry": retry})
        document = graph([("start", "trigger.manual"), node], ["start>charge"])
        return [(p.field, p.message) for p in validate_graph(document) if p.node == "charge"]

    assert problems(["timeout", "server_error"]) == []
    assert problems(["timeout", "teapot"]) == [("charge", "config.retry.non_retryable[1]")]
    assert problems("timeout") == [("charge", "config.retry.non_retryable")]
    assert problems(["timeout", "timeout"]) == [("charge", "config.retry.non_retryable")]

    assert problems(["timeout", "server_error"], "retry_on") == []
    assert problems(["timeout", "teapot"], "retry_on") == [("charge", "config.retry.retry_on[1]")]
    assert problems(["teapot"], "retry_on") == [("charge", "config.retry.retry_on[0]")]
    assert problems("timeout", "retry_on") == [("charge", "config.retry.retry_on")]
    assert problems([], "retry_on", non_retryable=["other"]) == []  # empty means not given
    both = messages({"retry_on": ["timeout"], "non_retryable": ["other"]})
    assert both == [("config.retry.retry_on", "give either retry_on or non_retryable, not both")]
    # Both lists and waits the wrong way round: each named, and validation does not raise.
    both_and_waits = {
        "retry_on": ["timeout"],
        "non_retryable": ["other"],
        "initial_delay": "1m",
        "max_delay": "1s",
    }
    assert [field for field, _ in messages(both_and_waits)] == [
        "config.retry.retry_on",
        "config.retry.max_delay",
    ]
