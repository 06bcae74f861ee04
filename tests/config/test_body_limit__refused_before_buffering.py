"""A request body over STEPWISE_MAX_BODY_BYTES is refused with 413 on every URL before it is
buffered: by its Content-Length, or, sent without one, once it grows past the cap. Through a
real Daphne a 200 MB body gets its 413 while most of it is still unsent, and the server's
memory does not grow by anything like it; the ASGI middleware does the same for other servers.
The 413 names `body`: the API's JSON under /api/ and /hooks/, a page elsewhere.
"""

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import override_settings

from config.body_limit import BodyLimit
from tests.processes import RunningProcess

MB = 1_000_000
HUGE = 200 * MB


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class Upload:
    """A 200 MB body made on demand, counting what the client has handed to the socket."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * MB
        while self.sent < HUGE:
            self.sent += len(chunk)
            yield chunk


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/hooks/orders", "/api/events", "/login/"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_200_mb_body_is_refused_through_daphne_before_it_is_read(
    daphne: tuple[str, RunningProcess], path: str, declared: bool
) -> None:
    base_url, server = daphne
    before = resident_bytes(server.process.pid)
    upload = Upload()
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(HUGE)
    started = time.monotonic()
    answer = httpx.post(f"{base_url}{path}", content=iter(upload), headers=headers, timeout=60)
    elapsed = time.monotonic() - started
    assert answer.status_code == 413, answer.text
    if path == "/login/":
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "body: larger than the limit of 10000000 bytes" in answer.text
    else:
        assert answer.json()["detail"] == "body: larger than the limit of 10000000 bytes"
    assert upload.sent < 60 * MB, f"{upload.sent} bytes went out before the answer"
    assert elapsed < 20
    grown = resident_bytes(server.process.pid) - before
    assert grown < 30 * MB, f"Daphne grew by {grown} bytes"
    # The server still serves, and a body under the cap is read as usual.
    assert httpx.post(f"{base_url}/hooks/orders", content=b"{}", timeout=10).status_code == 404


async def call(
    app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes], path: str = "/api/events"
) -> tuple:
    """Run an ASGI app on one request; returns (status, body, how many chunks it was given)."""
    given = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal given
        if given >= len(chunks):
            return {"type": "http.disconnect"}
        given += 1
        return {"type": "http.request", "body": chunks[given - 1], "more_body": given < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, given


async def reads_everything(scope: Any, receive: Any, send: Any) -> None:
    """An application that buffers the whole body, as Django's handler does."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def run_apart(coroutine: Any) -> Any:
    """asyncio.run in a thread of its own: Playwright's sync API leaves an event loop running in
    the test thread once a browser test has run in the session."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@override_settings(STEPWISE_MAX_BODY_BYTES=10)
def test_the_asgi_middleware_refuses_by_length_and_by_counting() -> None:
    app = BodyLimit(reads_everything)
    declared = run_apart(call(app, [(b"content-length", b"11")], [b"x" * 11]))
    assert declared[:2] == (
        413,
        b'{"detail": "body: larger than the limit of 10 bytes", "field": "body"}',
    )
    assert declared[2] == 0  # not one byte was read
    chunked = run_apart(call(app, [], [b"x" * 4] * 100))
    assert chunked[0] == 413 and chunked[2] == 3  # stopped at the chunk that crossed the cap
    assert run_apart(call(app, [(b"content-length", b"10")], [b"x" * 10]))[:2] == (200, b"10")
    assert run_apart(call(app, [], [b"x" * 5, b"x" * 5]))[:2] == (200, b"10")
    page = run_apart(call(app, [(b"content-length", b"11")], [b"x" * 11], path="/designer/x/start"))
    assert page[0] == 413 and b"body: larger than the limit of 10 bytes" in page[1]
    assert b"<!doctype html>" in page[1]
