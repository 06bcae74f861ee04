"""The AI node sends its key to the configured endpoint only: a redirect is refused, not
followed, and proxy variables in the worker's environment are ignored. An answer larger than
STEPWISE_AI_MAX_RESPONSE_BYTES fails the step for good, whether its length is declared or not.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import override_settings

from engine.core.errors import NonRetryableError
from engine.graph.nodes import ai
from engine.graph.nodes.base import NodeContext
from tests.engine.graph.local_server import CHAT_PATH, LocalServer, Reply

API_KEY = "sk-test-stays-home"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv("STEPWISE_AI_API_KEY", API_KEY)
    with (
        LocalServer() as running,
        override_settings(
            STEPWISE_AI_BASE_URL=running.url("/v1"),
            STEPWISE_AI_MODEL="small-model",
            STEPWISE_AI_API_KEY_ENV="STEPWISE_AI_API_KEY",
        ),
    ):
        yield running


@pytest.fixture
def elsewhere() -> Iterator[LocalServer]:
    """Another server: where a redirect points, or a proxy the environment names."""
    with LocalServer() as running:
        yield running


def generate() -> Any:
    context = NodeContext(node_id="ask", config={"prompt": "hello"}, scope={}, idempotency_key="k")
    return ai.execute(context).output


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_refused_not_followed(
    server: LocalServer, elsewhere: LocalServer, status: int
) -> None:
    server.route("POST", CHAT_PATH, Reply(status, headers={"Location": elsewhere.url(CHAT_PATH)}))
    with pytest.raises(ai.AiRequestRefused, match=f"answered {status}, a redirect"):
        generate()
    assert elsewhere.requests == []


def test_proxy_variables_are_ignored(
    server: LocalServer, elsewhere: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, elsewhere.url())
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert generate()["text"] == "hello"  # the fake endpoint echoes the prompt
    assert elsewhere.requests == []
    assert server.requests_to(CHAT_PATH)[0].headers["authorization"] == f"Bearer {API_KEY}"


@override_settings(STEPWISE_AI_MAX_RESPONSE_BYTES=1_000)
def test_a_declared_answer_over_the_cap_fails_for_good(server: LocalServer) -> None:
    server.chat("word " * 1_000)
    with pytest.raises(ai.AiResponseTooLarge, match="is over 1000 bytes") as raised:
        generate()
    assert isinstance(raised.value, NonRetryableError)


@override_settings(STEPWISE_AI_MAX_RESPONSE_BYTES=1_000)
def test_an_undeclared_answer_is_read_no_further_than_the_cap() -> None:
    given: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            given.append(1)
            yield b"x" * 300

    response = httpx.Response(200, content=endless())
    with pytest.raises(ai.AiResponseTooLarge, match="over 1000 bytes"):
        ai._read_capped(response)
    assert len(given) == 4  # the chunk that crossed the cap was the last one read
    small = httpx.Response(200, content=iter([b"{}", b" "]))
    assert ai._read_capped(small) == b"{} "
