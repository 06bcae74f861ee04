"""A cap on every request body (STEPWISE_MAX_BODY_BYTES), enforced before anything buffers it.

Django's limits come too late for this: its ASGI handler reads the whole body into a spooled
file before any middleware runs, and Daphne receives the whole body before it calls the
application at all. So the cap is enforced twice, below both:

- `BodyLimit`, an ASGI middleware around Django, answers 413 by `Content-Length` without
  reading the body, and stops a body without one once it grows past the cap;
- `CappedWebRequest`, Daphne's request, does the same as the bytes arrive from the socket:
  it answers 413 and closes the connection, so the rest of the body is never read.

Both answer as accounts.errors.refused does: the API's JSON naming `body` under /api/ and
/hooks/, a page saying the same elsewhere. Django's own limit on what it reads is set to the same
number (DATA_UPLOAD_MAX_MEMORY_SIZE), so it never refuses a body below the cap.

Webhook endpoints keep their own, lower limit (engine/views.py).
"""

from typing import Any

from asgiref.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)
from daphne import http_protocol
from django.conf import settings

from accounts.errors import refused

ASGIApp = Any  # Django's and Channels' applications are not typed as asgiref's protocol


def body_cap() -> int:
    return int(settings.STEPWISE_MAX_BODY_BYTES)


def too_large(cap: int, path: str) -> tuple[bytes, bytes]:
    """(content type, body) of the 413 for a body over the cap sent to this path."""
    content_type, body = refused(path, 413, "body", f"larger than the limit of {cap} bytes")
    return content_type.encode(), body


class BodyTooLarge(Exception):
    """Raised into the application when a body without a length grows past the cap."""


def declared_length(headers: Any) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: a request body over the cap never reaches the application whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = body_cap()
        declared = declared_length(scope["headers"])
        if declared is not None and declared > cap:
            await _refuse(send, cap, scope["path"])
            return
        received = 0
        started = False

        async def counted() -> ASGIReceiveEvent:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge
            return message

        async def watched(message: ASGISendEvent) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await _refuse(send, cap, scope["path"])


async def _refuse(send: ASGISendCallable, cap: int, path: str) -> None:
    content_type, body = too_large(cap, path)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
            "trailers": False,
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class CappedWebRequest(http_protocol.WebRequest):  # type: ignore[misc]
    """Daphne's request, refusing a body over the cap as it arrives instead of storing it."""

    _received = 0
    _refused = False

    def gotLength(self, length: int | None) -> None:
        # Called once the headers are in, before Twisted opens a file for the body.
        if length is not None and length > body_cap():
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._received > body_cap():
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self._refused:
            super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self._refused = True
        content_type, body = too_large(body_cap(), self._target_path())
        head = (
            b"HTTP/1.1 413 Content Too Large\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (content_type, len(body))
        )
        self.channel.transport.write(head + body)
        # Stops reading at once; the answer is flushed before the socket closes.
        self.channel.loseConnection()

    def _target_path(self) -> str:
        # The request line is parsed, but Twisted names the request's path only once the body
        # is in: its channel keeps the target until then (without it, the answer is the page).
        target = getattr(self.channel, "_path", b"")
        return target.split(b"?", 1)[0].decode("latin-1") if isinstance(target, bytes) else ""


def install_daphne_cap() -> None:
    """Make Daphne build CappedWebRequest for every connection.

    Daphne has no setting for this: its factory reads `WebRequest` from its module when a
    connection opens, and `daphne config.asgi:application` imports this project (which calls
    this) before it listens.
    """
    http_protocol.WebRequest = CappedWebRequest
