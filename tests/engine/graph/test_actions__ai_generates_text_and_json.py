"""The AI node asks an OpenAI-compatible endpoint for text, or for JSON it checks against the
node's schema; a reply that does not match is a retryable error, a missing endpoint is not."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from engine.core.errors import NonRetryableError
from engine.graph.nodes import ai
from engine.graph.nodes.base import CheckContext, NodeContext
from tests.engine.graph.local_server import CHAT_PATH, LocalServer, Reply

API_KEY = "sk-test-0123456789"
POST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "tags"],
    "properties": {
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """The fake endpoint, configured as the operator would (the key from the environment)."""
    monkeypatch.setenv("STEPWISE_AI_API_KEY", API_KEY)
    with (
        LocalServer() as running,
        override_settings(
            STEPWISE_AI_BASE_URL=running.url("/v1"),
            STEPWISE_AI_MODEL="small-model",
            STEPWISE_AI_API_KEY_ENV="STEPWISE_AI_API_KEY",
            STEPWISE_HTTP_ALLOWLIST=[],  # the operator's endpoint is not subject to the guard
        ),
    ):
        yield running


def generate(config: dict[str, Any]) -> Any:
    context = NodeContext(
        node_id="write",
        config=config,
        scope={"input": {"topic": "durable workflows", "notes": ["replay", "journal"]}},
        idempotency_key="stepwise:3:1:write",
    )
    return ai.execute(context).output


def test_text_generation_sends_rendered_prompts(server: LocalServer) -> None:
    """System and user prompts are rendered; the key goes as a bearer token; the output has
    the text, the model and the token usage."""
    server.chat("Durable workflows survive crashes.")
    output = generate(
        {
            "system": "You write about {{ input.topic }}.",
            "prompt": "One sentence about {{ input.topic }}.",
            "context": {"notes": "{{ input.notes }}"},
            "temperature": 0.2,
            "max_tokens": 50,
        }
    )
    assert output["text"] == "Durable workflows survive crashes."
    assert output["model"] == "small-model"
    assert output["usage"]["completion_tokens"] == 4
    (request,) = server.requests_to(CHAT_PATH)
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    payload = request.json()
    assert payload["model"] == "small-model"
    assert payload["temperature"] == 0.2
    assert payload["max_tokens"] == 50
    assert "response_format" not in payload
    assert payload["messages"][0] == {
        "role": "system",
        "content": "You write about durable workflows.",
    }
    assert payload["messages"][1] == {
        "role": "user",
        "content": "One sentence about durable workflows.",
    }
    assert json.loads(payload["messages"][2]["content"].removeprefix("Context:\n")) == {
        "notes": ["replay", "journal"]
    }


def test_json_generation_asks_for_the_schema_and_checks_the_answer(server: LocalServer) -> None:
    """output "json" sends a strict json_schema response format and returns the parsed data;
    the node's model overrides the configured one."""
    server.chat({"title": "Replay, explained", "tags": ["durability"]})
    output = generate(
        {
            "prompt": "A post about {{ input.topic }}",
            "output": "json",
            "schema": POST_SCHEMA,
            "model": "big-model",
        }
    )
    assert output["data"] == {"title": "Replay, explained", "tags": ["durability"]}
    assert "text" not in output
    payload = server.requests_to(CHAT_PATH)[0].json()
    assert payload["model"] == "big-model"
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": POST_SCHEMA, "strict": True},
    }


def test_json_in_a_code_fence_is_accepted(server: LocalServer) -> None:
    """Models that wrap JSON in ``` fences still give data."""
    server.chat('```json\n{"title": "t", "tags": []}\n```')
    assert generate({"prompt": "p", "output": "json", "schema": POST_SCHEMA})["data"] == {
        "title": "t",
        "tags": [],
    }


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"title": 7, "tags": []}, "does not match the schema at title: 7 is not of type 'string'"),
        ({"title": "t"}, "at the top level: 'tags' is a required property"),
        ('{"title": "t", "tags": [', "not valid JSON"),
    ],
)
def test_an_answer_that_does_not_match_is_retryable(
    server: LocalServer, reply: Any, message: str
) -> None:
    """Schema mismatches and broken JSON raise AiOutputInvalid, which the engine retries."""
    server.chat(reply)
    with pytest.raises(ai.AiOutputInvalid, match=message) as raised:
        generate({"prompt": "p", "output": "json", "schema": POST_SCHEMA})
    assert not isinstance(raised.value, NonRetryableError)


def test_a_cut_off_answer_says_so(server: LocalServer) -> None:
    """finish_reason "length" is mentioned when the JSON is incomplete."""
    server.chat('{"title": "t", "ta', finish_reason="length")
    with pytest.raises(ai.AiOutputInvalid, match="cut off at max_tokens"):
        generate({"prompt": "p", "output": "json", "schema": POST_SCHEMA})


def test_endpoint_errors_are_sorted_and_never_show_the_key(server: LocalServer) -> None:
    """401 is not retried, 500 and 429 are; the key never appears in a message."""
    server.route("POST", CHAT_PATH, Reply(401, {"error": {"message": f"bad key {API_KEY}"}}))
    with pytest.raises(ai.AiRequestRefused, match="answered 401: bad key") as refused:
        generate({"prompt": "p"})
    assert API_KEY not in str(refused.value)
    for status in (500, 429):
        server.route("POST", CHAT_PATH, Reply(status, {"error": {"message": "busy"}}))
        with pytest.raises(ai.AiRequestFailed, match=f"answered {status}: busy"):
            generate({"prompt": "p"})


def test_without_an_endpoint_the_node_fails_at_once() -> None:
    """No STEPWISE_AI_BASE_URL: a NonRetryableError that says what to set."""
    with (
        override_settings(STEPWISE_AI_BASE_URL=""),
        pytest.raises(NonRetryableError, match="set STEPWISE_AI_BASE_URL"),
    ):
        generate({"prompt": "p"})


def test_check_requires_a_valid_schema_for_json() -> None:
    """Validation asks for a schema with output "json" and checks it is a valid JSON Schema."""
    context = CheckContext()
    assert ai.check("w", {"prompt": "p", "output": "json", "schema": POST_SCHEMA}, context) == []
    assert ai.check("w", {"prompt": "p"}, context) == []
    (missing,) = ai.check("w", {"prompt": "p", "output": "json"}, context)
    assert (missing.field, missing.message) == (
        "config.schema",
        'output "json" needs a JSON Schema here',
    )
    (invalid,) = ai.check(
        "w",
        {
            "prompt": "p",
            "output": "json",
            "schema": {"type": "object", "properties": {"a": {"type": "nope"}}},
        },
        context,
    )
    assert invalid.field == "config.schema"
    assert invalid.message.startswith("not a valid JSON Schema (at properties/a/type)")
