"""`action.http`: call an HTTP API and hand its answer to the next nodes.

The URL, headers, query and body are templates; those four (and only those) may also use
`{{ secrets.NAME }}`, read from the worker's environment just for this call and redacted from
everything the node returns or raises. Every address, including each redirect hop, passes the
network guard (engine/outbound/netguard.py).
"""

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from engine.core.errors import NonRetryableError
from engine.core.expressions import ExpressionError
from engine.core.values import to_text
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)
from engine.outbound import netguard
from engine.outbound.grants import require_grants
from engine.outbound.secrets import (
    redact,
    redact_value,
    referenced_secrets,
    render_with_secrets,
    resolve_secrets,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 300.0
MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1_000_000
MAX_HEADER_CHARS = 4_000
RETRYABLE_STATUSES = frozenset({408, 429})
DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key"
# The fields rendered with `secrets` in scope.
SECRET_FIELDS = ("url", "headers", "query", "body")

_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_EXPECT = r"^([1-5]xx|[1-5][0-9][0-9])$"
# Response headers that carry credentials or session state are never put in an output.
_HIDDEN_HEADERS = frozenset(
    {
        "set-cookie",
        "set-cookie2",
        "cookie",
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
    }
)
_HIDDEN_HEADER_WORDS = ("token", "secret", "password", "session", "api-key", "apikey", "auth")
_TEXT_TYPES = ("json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv")

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "method": {
            "title": "Method",
            "description": "The HTTP method.",
            "enum": list(METHODS),
            "default": "GET",
        },
        "url": {
            "title": "URL",
            "description": "An http or https URL; may hold {{ }} templates and {{ secrets.NAME }}.",
            "type": "string",
            "minLength": 1,
            "maxLength": 4000,
        },
        "headers": {
            "title": "Headers",
            "description": "Header name → value (a template). Put credentials in as "
            "{{ secrets.NAME }}; they never show in outputs or errors.",
            "type": "object",
            "propertyNames": {"pattern": f"^{_HEADER_NAME}$", "maxLength": 200},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "query": {
            "title": "Query parameters",
            "description": "Name → value (a template; a list repeats the parameter), "
            "added to the URL's own query.",
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "array", "null"]},
        },
        "body": {
            "title": "Body",
            "description": "Any JSON, sent as JSON; text is sent as it is. Strings inside are "
            "templates. Leave out for no body.",
        },
        "timeout": {
            "title": "Timeout (seconds)",
            "description": "How long one attempt may take, redirects included (at most 300).",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TIMEOUT,
            "default": DEFAULT_TIMEOUT,
        },
        "expect": {
            "title": "Expected statuses",
            "description": 'Status codes (404) or classes ("2xx") that count as success.',
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"type": "integer", "minimum": 100, "maximum": 599},
                    {"type": "string", "pattern": _EXPECT},
                ]
            },
            "default": ["2xx"],
        },
        "follow_redirects": {
            "title": "Follow redirects",
            "description": f"Follow up to {MAX_REDIRECTS} redirects, each checked like the URL.",
            "type": "boolean",
            "default": True,
        },
        "idempotency_header": {
            "title": "Idempotency header",
            "description": "Sends the step's idempotency key (the same on every retry) in this "
            "header, so the server can drop duplicates. Empty sends none.",
            "type": "string",
            "pattern": f"^({_HEADER_NAME})?$",
            "default": DEFAULT_IDEMPOTENCY_HEADER,
        },
    },
}


class HttpStatusError(Exception):
    """The server answered with a status worth retrying (5xx, 408, 429)."""

    error_kind = "server_error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class HttpStatusRefused(NonRetryableError):
    """The server answered with an unexpected status that a retry would not change."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class HttpRequestFailed(Exception):
    """No answer: the connection failed or timed out (retryable)."""

    error_kind = "connection"


class HttpRequestTimedOut(HttpRequestFailed):
    """No answer within the node's request timeout (retryable)."""

    error_kind = "timeout"


class HttpRequestInvalid(NonRetryableError):
    """The request cannot be sent as configured (bad URL, header or body)."""


def execute(ctx: NodeContext) -> NodeResult:
    names = referenced_secrets([ctx.config.get(name) for name in SECRET_FIELDS])
    # The run's workflow must hold a grant for each before any is read.
    require_grants(ctx.run_id, names)
    secrets = resolve_secrets(names)
    try:
        return _call(ctx, secrets)
    except (HttpStatusError, HttpStatusRefused) as exc:
        # Rebuilt rather than re-raised, so no traceback or cause keeps the clear values.
        raise type(exc)(redact(str(exc), secrets), exc.status) from None
    except ExpressionError as exc:
        raise ExpressionError(
            redact(exc.message, secrets),
            expression=exc.expression,
            position=exc.position,
            node=exc.node,
            field=exc.field,
        ) from None
    except (
        netguard.AddressRefused,
        netguard.HostNotFound,
        HttpRequestFailed,
        HttpRequestInvalid,
    ) as exc:
        if not secrets:
            raise
        raise type(exc)(redact(str(exc), secrets)) from None


def _call(ctx: NodeContext, secrets: dict[str, str]) -> NodeResult:
    config = ctx.config

    def render(field: str, default: Any = None) -> Any:
        if field not in config:
            return default
        return render_with_secrets(
            config[field],
            secrets,
            lambda value: dataclasses.replace(ctx, config={**config, field: value}).render(field),
        )

    url = render("url")
    if not isinstance(url, str) or not url.strip():
        raise HttpRequestInvalid(f"the URL must be text, got {_shown(url)}")
    url = url.strip()
    headers = _headers(render("headers", {}))
    query = _query(render("query", {}))
    body = render("body")
    # A URL that carried a secret is shown without its query, whatever it became.
    hide_query = bool(referenced_secrets([config.get("url"), config.get("query")]))
    method = str(config.get("method", "GET")).upper()
    if method not in METHODS:
        raise HttpRequestInvalid(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    timeout = min(float(config.get("timeout", DEFAULT_TIMEOUT)), MAX_TIMEOUT)
    expect = config.get("expect") or ["2xx"]
    idempotency_header = config.get("idempotency_header", DEFAULT_IDEMPOTENCY_HEADER)
    present = {name.lower() for name in headers}
    if idempotency_header and ctx.idempotency_key and idempotency_header.lower() not in present:
        headers[idempotency_header] = ctx.idempotency_key
    if isinstance(body, str) and "content-type" not in present:
        headers["Content-Type"] = "text/plain; charset=utf-8"
    # Headers built from secrets are not sent on to another origin by a redirect.
    secret_headers = {
        name.lower()
        for name, value in (config.get("headers") or {}).items()
        if referenced_secrets(value)
    }

    deadline = time.monotonic() + timeout
    netguard.check_url(url)
    with httpx.Client(
        transport=netguard.guarded_transport(),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    ) as client:
        try:
            request = client.build_request(
                method, url, headers=headers, params=query or None, **_body_arguments(body)
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise HttpRequestInvalid(f"cannot build the request: {exc}") from None
        origin = _origin(request.url)
        for hop in range(MAX_REDIRECTS + 1):
            response = _send(client, request, deadline)
            try:
                if response.next_request is not None and config.get("follow_redirects", True):
                    if hop == MAX_REDIRECTS:
                        raise HttpStatusRefused(
                            f"{method} {_display(url)} redirected more than {MAX_REDIRECTS} times",
                            response.status_code,
                        )
                    request = response.next_request
                    netguard.check_url(str(request.url))
                    if _origin(request.url) != origin:
                        for name in secret_headers:
                            request.headers.pop(name, None)
                    continue
                content, truncated = _read(response, deadline)
            finally:
                response.close()
            break

    status = response.status_code
    output = {
        "status": status,
        "url": _without_query(str(response.url)) if hide_query else str(response.url),
        "headers": _safe_headers(response.headers),
        "body": _decode(response, content, truncated),
        "truncated": truncated,
    }
    if not _expected(status, expect):
        _raise_for_status(method, url, response, content)
    return NodeResult(output=redact_value(output, secrets))


def _send(client: httpx.Client, request: httpx.Request, deadline: float) -> httpx.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise HttpRequestTimedOut(f"{request.method} {_display(str(request.url))} timed out")
    request.extensions["timeout"] = httpx.Timeout(remaining).as_dict()
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException:
        raise HttpRequestTimedOut(
            f"{request.method} {_display(str(request.url))} timed out"
        ) from None
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise HttpRequestInvalid(f"{request.method} {_display(str(request.url))}: {exc}") from None
    except httpx.TransportError as exc:
        raise HttpRequestFailed(
            f"{request.method} {_display(str(request.url))} failed: {exc or type(exc).__name__}"
        ) from None


def _read(response: httpx.Response, deadline: float) -> tuple[bytes, bool]:
    """Read at most MAX_BODY_BYTES, within the attempt's deadline."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return b"".join(chunks)[:MAX_BODY_BYTES], True
            if time.monotonic() > deadline:
                raise HttpRequestTimedOut(
                    f"{response.request.method} {_display(str(response.request.url))} "
                    "timed out while reading the answer"
                )
    except httpx.TimeoutException:
        raise HttpRequestTimedOut(
            f"{response.request.method} {_display(str(response.request.url))} "
            "timed out while reading the answer"
        ) from None
    except httpx.TransportError as exc:
        raise HttpRequestFailed(
            f"{response.request.method} {_display(str(response.request.url))} "
            f"failed while reading the answer: {exc or type(exc).__name__}"
        ) from None
    return b"".join(chunks), False


def _decode(response: httpx.Response, content: bytes, truncated: bool) -> Any:
    """JSON when the answer says it is JSON (and is whole), else text; None when empty."""
    if not content:
        return None
    content_type = response.headers.get("content-type", "").lower()
    text = content.decode(response.encoding or "utf-8", errors="replace")
    if not truncated and ("/json" in content_type or "+json" in content_type):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _raise_for_status(method: str, url: str, response: httpx.Response, content: bytes) -> None:
    status = response.status_code
    excerpt = " ".join(content[:300].decode("utf-8", errors="replace").split())
    message = f"{method} {_display(url)} answered {status} {response.reason_phrase}".rstrip()
    if excerpt:
        message += f": {excerpt}"
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise HttpStatusError(message, status)
    raise HttpStatusRefused(message, status)


def _expected(status: int, expect: list[Any]) -> bool:
    for item in expect:
        text = str(item).lower()
        if text.endswith("xx") and status // 100 == int(text[0]):
            return True
        if text.isdigit() and status == int(text):
            return True
    return False


def _headers(rendered: Any) -> dict[str, str]:
    if not isinstance(rendered, Mapping):
        raise HttpRequestInvalid(f"headers must be a map, got {_shown(rendered)}")
    headers: dict[str, str] = {}
    for name, value in rendered.items():
        if value is None:
            continue  # a template that yields null leaves the header out
        text = to_text(value)
        if "\r" in text or "\n" in text:
            raise HttpRequestInvalid(f"header {name!r} holds a line break")
        headers[str(name)] = text
    return headers


def _query(rendered: Any) -> dict[str, str | list[str]]:
    if not isinstance(rendered, Mapping):
        raise HttpRequestInvalid(f"query must be a map, got {_shown(rendered)}")
    query: dict[str, str | list[str]] = {}
    for name, value in rendered.items():
        if value is None:
            continue
        if isinstance(value, list):
            query[str(name)] = [to_text(item) for item in value if item is not None]
        else:
            query[str(name)] = to_text(value)
    return query


def _body_arguments(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, str):
        return {"content": body.encode()}
    return {"json": body}


def _safe_headers(headers: httpx.Headers) -> dict[str, str]:
    safe: dict[str, str] = {}
    for name in headers:
        lowered = name.lower()
        if lowered in _HIDDEN_HEADERS or any(word in lowered for word in _HIDDEN_HEADER_WORDS):
            continue
        safe[lowered] = ", ".join(headers.get_list(name))[:MAX_HEADER_CHARS]
    return safe


def _shown(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    marker = "?[hidden: a secret went into the query]" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}{marker}"


def _display(url: str) -> str:
    """The URL without credentials or query, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check(node_id: str, config: Mapping[str, Any], context: CheckContext) -> list[Problem]:
    """A URL without templates must be a valid http(s) URL."""
    problems: list[Problem] = []
    url = config.get("url")
    if isinstance(url, str) and "{{" not in url and url.strip():
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in netguard.SCHEMES:
            problems.append(
                Problem(node_id, "config.url", "the URL must start with http:// or https://")
            )
        elif not parts.netloc:
            problems.append(Problem(node_id, "config.url", "the URL has no host"))
    for field in SECRET_FIELDS:
        for name in sorted(referenced_secrets(config.get(field))):
            if not context.secret_granted(name):
                problems.append(
                    Problem(
                        node_id,
                        f"config.{field}",
                        f"the secret {name.upper()} is not granted to this workflow: an "
                        "administrator grants it (in the admin, Secret grants)",
                    )
                )
    return problems


register(
    NodeType(
        type="action.http",
        group="actions",
        title="HTTP request",
        description="Call an HTTP API; its status, headers and body become the node's output.",
        config_schema=CONFIG_SCHEMA,
        templates=("url", "headers.*", "query.*", "body"),
        secret_fields=SECRET_FIELDS,
        execute=execute,
        side_effects=True,
        error_handling=True,
        check=check,
        icon="globe",
        defaults={"method": "GET", "url": "https://"},
    )
)
