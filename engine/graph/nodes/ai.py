"""`action.ai`: generate text, or JSON that matches a schema, with a language model.

Any OpenAI-compatible chat completions endpoint works (OpenAI, a vLLM or Ollama server, a
gateway). The operator configures it (STEPWISE_AI_BASE_URL, STEPWISE_AI_MODEL) and the API key
comes from the environment variable that STEPWISE_AI_API_KEY_ENV names, so the key is never in a
graph, the journal or an output. The endpoint is the operator's choice, so it is not subject
to the network guard that HTTP nodes pass; but no redirect is followed (it could carry the key
elsewhere), no proxy variable is read, and an answer over STEPWISE_AI_MAX_RESPONSE_BYTES fails
the step instead of filling the worker's memory.
"""

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import httpx
import jsonschema
from django.conf import settings

from engine.core.errors import NonRetryableError
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)
from engine.outbound.secrets import redact

DEFAULT_TIMEOUT = 120.0
MAX_TIMEOUT = 600.0
RETRYABLE_STATUSES = frozenset({408, 429})
_FENCE = re.compile(r"^\s*```(?:json)?\s*(?P<body>.*?)\s*```\s*$", re.DOTALL)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["prompt"],
    "properties": {
        "prompt": {
            "title": "Prompt",
            "description": "What to ask, a template: {{ input.topic }} and node outputs work.",
            "type": "string",
            "minLength": 1,
        },
        "system": {
            "title": "System prompt",
            "description": "Optional instructions that frame every answer, a template.",
            "type": "string",
        },
        "context": {
            "title": "Context",
            "description": "Optional data the model should work on (any JSON, strings are "
            "templates), sent after the prompt.",
        },
        "model": {
            "title": "Model",
            "description": "Leave empty for the configured STEPWISE_AI_MODEL.",
            "type": "string",
            "maxLength": 200,
        },
        "output": {
            "title": "Output",
            "description": '"text" gives {"text": ...}; "json" gives {"data": ...} matching '
            "the schema.",
            "enum": ["text", "json"],
            "default": "text",
        },
        "schema": {
            "title": "JSON Schema",
            "description": 'The shape the answer must have when output is "json" (an object '
            'schema; strict models want "additionalProperties": false and every property '
            "required).",
            "type": "object",
        },
        "temperature": {
            "title": "Temperature",
            "description": "0 for focused answers, up to 2 for varied ones.",
            "type": "number",
            "minimum": 0,
            "maximum": 2,
        },
        "max_tokens": {
            "title": "Maximum tokens",
            "description": "The longest answer, in tokens.",
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
        },
        "timeout": {
            "title": "Timeout (seconds)",
            "description": "How long one attempt may wait for the model (at most 600).",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TIMEOUT,
            "default": DEFAULT_TIMEOUT,
        },
    },
}


class AiNotConfigured(NonRetryableError):
    """No endpoint or model is configured for AI nodes."""


class AiRequestRefused(NonRetryableError):
    """The endpoint refused the request (bad key, unknown model, invalid request)."""


class AiResponseTooLarge(NonRetryableError):
    """The endpoint's answer is larger than STEPWISE_AI_MAX_RESPONSE_BYTES."""


class AiRequestFailed(Exception):
    """The endpoint could not be reached or failed for now (retryable); `kind` says how
    (engine.core.error_kinds)."""

    def __init__(self, message: str, kind: str = "server_error") -> None:
        super().__init__(message)
        self.error_kind = kind


class AiOutputInvalid(Exception):
    """The model's answer is not the JSON the schema asks for (retryable: models vary)."""

    error_kind = "invalid_answer"


def execute(ctx: NodeContext) -> NodeResult:
    base_url = str(getattr(settings, "STEPWISE_AI_BASE_URL", "") or "").strip()
    if not base_url:
        raise AiNotConfigured(
            "AI nodes need an OpenAI-compatible endpoint: set STEPWISE_AI_BASE_URL "
            "(e.g. https://api.openai.com/v1)"
        )
    model = str(ctx.config.get("model") or getattr(settings, "STEPWISE_AI_MODEL", "") or "")
    if not model:
        raise AiNotConfigured("no model: set STEPWISE_AI_MODEL or the node's model")
    api_key = _api_key()
    output = ctx.config.get("output", "text")
    schema = ctx.config.get("schema")
    if output == "json" and not isinstance(schema, Mapping):
        raise NonRetryableError('output "json" needs a JSON Schema in "schema"')

    messages: list[dict[str, str]] = []
    system = _text(ctx.render("system")) if ctx.config.get("system") else ""
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": _text(ctx.render("prompt"))})
    if ctx.config.get("context") is not None:
        context = ctx.render("context")
        messages.append({"role": "user", "content": f"Context:\n{_text(context)}"})
    payload: dict[str, Any] = {"model": model, "messages": messages}
    for option in ("temperature", "max_tokens"):
        if ctx.config.get(option) is not None:
            payload[option] = ctx.config[option]
    if output == "json":
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": schema, "strict": True},
        }

    answer = _post(base_url, api_key, payload, ctx.config.get("timeout", DEFAULT_TIMEOUT))
    content, finish_reason = _content(answer)
    result: dict[str, Any] = {
        "model": answer.get("model") or model,
        "usage": answer.get("usage") if isinstance(answer.get("usage"), dict) else None,
    }
    if output == "json":
        assert isinstance(schema, Mapping)
        result["data"] = _parse_json(content, schema, finish_reason)
    else:
        result["text"] = content
    return NodeResult(output=result)


def _api_key() -> str:
    variable = str(getattr(settings, "STEPWISE_AI_API_KEY_ENV", "") or "STEPWISE_AI_API_KEY")
    return os.environ.get(variable, "")


def _post(base_url: str, api_key: str, payload: dict[str, Any], timeout: Any) -> dict[str, Any]:
    url = f"{base_url.rstrip('/')}/chat/completions"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    seconds = min(float(timeout or DEFAULT_TIMEOUT), MAX_TIMEOUT)
    # The key goes to the configured address only: no redirect may carry it elsewhere, and no
    # HTTP(S)_PROXY variable of the worker's environment may route it through a proxy.
    try:
        with (
            httpx.Client(timeout=seconds, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, json=payload, headers=headers) as response,
        ):
            status = response.status_code
            body = _read_capped(response)
    except httpx.TimeoutException:
        raise AiRequestFailed(
            f"the AI endpoint did not answer within {seconds:g}s", "timeout"
        ) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise AiNotConfigured(f"STEPWISE_AI_BASE_URL is not usable: {exc}") from None
    except httpx.HTTPError as exc:
        text = redact(str(exc) or type(exc).__name__, [api_key])
        raise AiRequestFailed(
            f"the AI endpoint could not be reached: {text}", "connection"
        ) from None
    if 300 <= status < 400:
        raise AiRequestRefused(
            f"the AI endpoint answered {status}, a redirect, which is not followed: set "
            "STEPWISE_AI_BASE_URL to the address that answers"
        )
    if status >= 400:
        detail = redact(_error_detail(body), [api_key])
        message = f"the AI endpoint answered {status}{detail}"
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise AiRequestFailed(message)
        raise AiRequestRefused(message)
    try:
        answer = json.loads(body)
    except ValueError:
        raise AiRequestFailed(
            "the AI endpoint answered with something that is not JSON", "invalid_answer"
        ) from None
    if not isinstance(answer, dict):
        raise AiRequestFailed("the AI endpoint's answer is not a JSON object", "invalid_answer")
    return answer


def _read_capped(response: httpx.Response) -> bytes:
    """The answer's body, read no further than STEPWISE_AI_MAX_RESPONSE_BYTES."""
    cap = int(settings.STEPWISE_AI_MAX_RESPONSE_BYTES)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise AiResponseTooLarge(f"the AI endpoint's answer ({declared} bytes) is over {cap} bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise AiResponseTooLarge(f"the AI endpoint's answer is over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_detail(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        text = " ".join(body[:300].decode("utf-8", errors="replace").split())
        return f": {text}" if text else ""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f": {str(error['message'])[:500]}"
    if isinstance(error, str):
        return f": {error[:500]}"
    return ""


def _content(answer: Mapping[str, Any]) -> tuple[str, str]:
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AiRequestFailed("the AI endpoint's answer has no choices", "invalid_answer")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        message = {}
    content = message.get("content")
    if not isinstance(content, str):
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal:
            raise AiOutputInvalid(f"the model refused: {refusal[:500]}")
        raise AiRequestFailed("the AI endpoint's answer has no message content", "invalid_answer")
    return content, str(choice.get("finish_reason") or "")


def _parse_json(content: str, schema: Mapping[str, Any], finish_reason: str) -> Any:
    cut_off = " (the answer was cut off at max_tokens)" if finish_reason == "length" else ""
    fenced = _FENCE.match(content)
    text = fenced.group("body") if fenced else content
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AiOutputInvalid(
            f"the model's answer is not valid JSON{cut_off}: {exc}; it began {content[:200]!r}"
        ) from None
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise AiOutputInvalid(
            f"the model's JSON does not match the schema at {where}: {error.message[:500]}"
        )
    return data


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


def check(node_id: str, config: Mapping[str, Any], context: CheckContext) -> list[Problem]:
    """Output "json" needs a schema, and the schema must itself be a valid JSON Schema."""
    schema = config.get("schema")
    if config.get("output") == "json" and schema is None:
        return [Problem(node_id, "config.schema", 'output "json" needs a JSON Schema here')]
    if isinstance(schema, dict):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as exc:
            where = "/".join(str(part) for part in exc.absolute_path)
            suffix = f" (at {where})" if where else ""
            return [
                Problem(node_id, "config.schema", f"not a valid JSON Schema{suffix}: {exc.message}")
            ]
    return []


register(
    NodeType(
        type="action.ai",
        group="actions",
        title="AI generate",
        description="Ask a language model for text, or for JSON that matches a schema.",
        config_schema=CONFIG_SCHEMA,
        templates=("prompt", "system", "context"),
        execute=execute,
        side_effects=True,
        error_handling=True,
        check=check,
        icon="sparkles",
        defaults={"prompt": "", "output": "text"},
    )
)
