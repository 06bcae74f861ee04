"""A small threaded HTTP server on 127.0.0.1 for tests of nodes that call out.

It records every request and answers from a script: `route(method, path, *replies)` answers
with the replies in turn (the last one repeats); a reply may be a function of the request.
`POST /v1/chat/completions` is a fake OpenAI-compatible endpoint answering with the contents
queued by `chat(...)`, or echoing the last user message.

    with LocalServer() as server:
        server.route("GET", "/orders/1", Reply(200, {"id": 1}))
        ... call server.url("/orders/1") ...
        assert server.requests[0].headers["idempotency-key"]

The `local_server` fixture yields a running server; import it into a conftest to use it.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """A scripted answer: a dict or list is sent as JSON, text as text/plain, bytes as they are."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Reply | Callable[[RecordedRequest], Reply]


AI_TEST_MODEL = "stepwise-test-model"
"""The model name the test session's workers are configured with."""


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 and a free port; use it as a context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Per path: requests being answered now, and the most there ever were at once.
        self._in_flight: dict[str, int] = {}
        self._most_in_flight: dict[str, int] = {}
        self._routes: dict[tuple[str, str], list[Responder]] = {}
        self._chat: list[Reply] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever for a loop that never ran
            self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, method: str, path: str, *replies: Responder) -> None:
        """Answer `method path` with these replies in turn; the last one repeats."""
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies) or [Reply(200)]

    def chat(self, *contents: Any, status: int = 200, finish_reason: str = "stop") -> None:
        """Queue answers of the fake chat completions endpoint (dicts and lists as JSON text)."""
        with self._lock:
            for content in contents:
                text = content if isinstance(content, str) else json.dumps(content)
                self._chat.append(Reply(status, {"content": text, "finish": finish_reason}))

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def most_in_flight(self, path: str) -> int:
        """The most requests to `path` the server was answering at the same time."""
        with self._lock:
            return self._most_in_flight.get(path, 0)

    def in_flight(self, path: str) -> int:
        with self._lock:
            return self._in_flight.get(path, 0)

    def _arrive(self, path: str) -> None:
        with self._lock:
            now = self._in_flight[path] = self._in_flight.get(path, 0) + 1
            self._most_in_flight[path] = max(now, self._most_in_flight.get(path, 0))

    def _depart(self, path: str) -> None:
        with self._lock:
            self._in_flight[path] -= 1

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            replies = self._routes.get((request.method, request.path))
            if replies:
                responder = replies.pop(0) if len(replies) > 1 else replies[0]
                return responder(request) if callable(responder) else responder
            if request.method == "POST" and request.path == CHAT_PATH:
                return self._chat_reply(request)
        return Reply(404, {"error": f"no route for {request.method} {request.path}"})

    def _chat_reply(self, request: RecordedRequest) -> Reply:
        payload = request.json()
        if self._chat:
            queued = self._chat.pop(0)
            content, finish = queued.body["content"], queued.body["finish"]
            if queued.status != 200:
                return Reply(queued.status, {"error": {"message": content}})
        else:
            users = [m["content"] for m in payload.get("messages", []) if m.get("role") == "user"]
            content, finish = (users[-1] if users else ""), "stop"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in payload["messages"])
        completion_tokens = len(content.split())
        return Reply(
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": payload.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (a timeout test) breaks the pipe; nothing to report


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            server._arrive(request.path)
            try:
                reply = server._answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
            finally:
                server._depart(request.path)
            content, content_type = _encode(reply.body)
            self.send_response(reply.status)
            headers = {"Content-Type": content_type, **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def _encode(body: Any) -> tuple[bytes, str]:
    if body is None:
        return b"", "text/plain"
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A running LocalServer, stopped after the test."""
    with LocalServer() as server:
        yield server
