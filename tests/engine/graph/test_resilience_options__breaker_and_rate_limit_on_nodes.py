"""Every action node takes `circuit_breaker` and `rate_limit` options: validation names the
wrong field (`config.circuit_breaker.cool_down`), and a compiled node's step runs through them,
the breaker failing fast once open (no request leaves) and the limit keyed by a template over
the node's scope."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from engine.core.context import StepInfo, run_step_attempt
from engine.core.errors import CircuitOpen, RateLimited
from engine.graph.program import Program
from engine.graph.validate import validate_graph
from tests.engine.graph.builders import EXPENSE, document, edge, node, where
from tests.engine.graph.local_server import LocalServer, Reply

pytestmark = pytest.mark.django_db


def with_options(**options: Any) -> dict[str, Any]:
    graph = {**EXPENSE, "nodes": [dict(n) for n in EXPENSE["nodes"]]}
    vp = next(n for n in graph["nodes"] if n["id"] == "vp")
    vp["config"] = {**vp["config"], **options}
    return graph


def test_wrong_options_are_refused_naming_the_field() -> None:
    assert validate_graph(with_options(circuit_breaker={"name": "crm", "cool_down": "90s"})) == []
    assert (
        validate_graph(
            with_options(rate_limit={"name": "crm", "limit": 5, "period": "1m", "key": "{{ x }}"})
        )
        == []
    )
    assert where(validate_graph(with_options(circuit_breaker={"name": "crm", "cool_down": 0}))) == [
        ("vp", "config.circuit_breaker.cool_down")
    ]
    assert where(validate_graph(with_options(circuit_breaker={"cool_down": "9s"}))) == [
        ("vp", "config.circuit_breaker.name")
    ]
    assert where(
        validate_graph(
            with_options(
                rate_limit={"name": "crm", "limit": 1, "period": "1m", "key": "{{ input. }}"}
            )
        )
    ) == [("vp", "config.rate_limit.key")]
    assert where(
        validate_graph(with_options(rate_limit={"name": "crm", "limit": 0, "period": "1m"}))
    ) == [("vp", "config.rate_limit.limit")]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with (
        LocalServer() as running,
        override_settings(STEPWISE_HTTP_ALLOWLIST=[f"127.0.0.1:{running.port}"]),
    ):
        yield running


def http_program(server: LocalServer, error_edge: bool = False, **options: Any) -> Program:
    nodes = [
        node("start", "trigger.manual"),
        node("call", "action.http", method="POST", url=server.url("/crm"), **options),
    ]
    edges = [edge("start", "call")]
    if error_edge:
        nodes.append(node("fallback", "flow.set", values={"fallback": "true"}))
        edges.append(edge("call", "fallback", "error"))
    graph = document(nodes, edges)
    assert validate_graph(graph) == []
    return Program.from_document("crm-sync", "1", "CRM", graph)


def attempt(program: Program, scope: dict[str, Any]) -> Any:
    step = program.step_for("call")
    return run_step_attempt(step, [scope], {}, StepInfo(1, 1, "call", 1))


def test_an_open_breaker_on_a_node_sends_nothing(server: LocalServer) -> None:
    name = f"crm-{uuid.uuid4().hex[:8]}"
    server.route("POST", "/crm", Reply(503))
    program = http_program(
        server, circuit_breaker={"name": name, "failure_threshold": 2, "cool_down": "10m"}
    )
    for _ in range(2):
        with pytest.raises(Exception, match="503"):
            attempt(program, {"input": {}})
    with pytest.raises(CircuitOpen, match=f"circuit breaker '{name}' is open"):
        attempt(program, {"input": {}})
    assert len(server.requests_to("/crm")) == 2


def test_a_rate_limit_on_a_node_is_keyed_by_its_template(server: LocalServer) -> None:
    server.route("POST", "/crm", Reply(200, {"ok": True}))
    limit = {
        "name": f"crm-{uuid.uuid4().hex[:8]}",
        "limit": 1,
        "period": "1h",
        "key": "{{ input.customer }}",
        "on_limit": "fail",
    }
    program = http_program(server, rate_limit=limit)
    attempt(program, {"input": {"customer": "acme"}})
    attempt(program, {"input": {"customer": "globex"}})
    with pytest.raises(RateLimited, match="for key 'acme'") as refused:
        attempt(program, {"input": {"customer": "acme"}})
    assert not refused.value.defers and refused.value.retry_after > 3500
    assert len(server.requests_to("/crm")) == 2


def test_a_node_with_an_error_edge_still_opens_its_breaker(server: LocalServer) -> None:
    """The error edge takes the failure as an output, and the breaker still counts it; once
    open, the refusal goes down the error edge too instead of failing the run."""
    name = f"crm-{uuid.uuid4().hex[:8]}"
    server.route("POST", "/crm", Reply(503))
    program = http_program(
        server,
        error_edge=True,
        circuit_breaker={"name": name, "failure_threshold": 2, "cool_down": "10m"},
    )
    for _ in range(2):
        failed = attempt(program, {"input": {}})
        assert failed["handle"] == "error" and "503" in failed["output"]["message"]
    refused = attempt(program, {"input": {}})
    assert refused["handle"] == "error"
    assert refused["output"]["type"] == "engine.core.errors.CircuitOpen"
    assert len(server.requests_to("/crm")) == 2
