"""The request size limit, applied at the ASGI level, before Django reads a byte of the body.

Django's ASGI handler spools the whole body to a temporary file before any middleware runs, so a limit checked in
middleware comes after the disk was written. This layer sits in front of Django:

- a declared `Content-Length` over the limit is answered 413 without reading the body;
- a body without a declared length (chunked) is read here, counting bytes, and refused with 413 as soon as it
  passes the limit; under the limit it is handed to Django with its real `Content-Length`, so the request parsers
  (which read nothing when no length is declared) see the body;
- a body that turns out longer than its declared length (it cannot, over HTTP/1.1, but the layer does not rely
  on the server for it) is cut at the limit as well.

The 413 is the API's JSON error body and closes the connection: the unread rest of the body is never read.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.request_id import choose_request_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Chunked bodies are buffered in memory up to this size, then on disk (as Django itself does).
_SPOOL_IN_MEMORY_BYTES = 1024 * 1024
_REPLAY_CHUNK_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


def error_message(*, code: ErrorCode, message: str, request_id: str) -> tuple[Message, Message]:
    """The two ASGI messages of one JSON error response that also closes the connection."""
    body = json.dumps(ApiError(code, message).body(), separators=(",", ":")).encode()
    start = {
        "type": "http.response.start",
        "status": code.http_status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


class RequestGuard:
    """Wraps the Django application: the size limit above, and a JSON 500 when the application fails (or returns)
    before it started a response, where the server would answer in plain text."""

    def __init__(self, app: AsgiApp, *, max_bytes: Callable[[], int]):
        self.app = app
        # Read per request so tests (and settings overrides) see the current value.
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _answer(scope, send, ErrorCode.PAYLOAD_TOO_LARGE, _too_large(limit))
            return
        if declared is not None:
            app_receive = _counting(receive, limit)
        else:
            try:
                app_receive, length = await _buffer(receive, limit)
            except BodyTooLarge:
                await _answer(scope, send, ErrorCode.PAYLOAD_TOO_LARGE, _too_large(limit))
                return
            kept = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"content-length", b"transfer-encoding")]
            scope = {**scope, "headers": [*kept, (b"content-length", str(length).encode())]}
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, app_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _answer(scope, send, ErrorCode.PAYLOAD_TOO_LARGE, _too_large(limit))
            return
        except Exception:
            if not started:
                await _answer(scope, send, ErrorCode.INTERNAL_ERROR, "An internal error occurred.")
            raise
        if not started:
            # The application gave up without answering: the client went away (the server then sends nothing),
            # or something failed before the response began.
            await _answer(scope, send, ErrorCode.INTERNAL_ERROR, "An internal error occurred.")


def _too_large(limit: int) -> str:
    return f"The request is over the total size limit ({limit} bytes)."


async def _answer(scope: Scope, send: Send, code: ErrorCode, message: str) -> None:
    incoming = _header(scope, b"x-request-id")
    request_id = choose_request_id(incoming=incoming.decode("latin-1") if incoming else None)
    for part in error_message(code=code, message=message, request_id=request_id):
        await send(part)


def _counting(receive: Receive, limit: int) -> Receive:
    """Pass the body through, raising once more than `limit` bytes arrived (a body longer than it declared)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return wrapped


async def _buffer(receive: Receive, limit: int) -> tuple[Receive, int]:
    """Read a body of undeclared length, at most `limit` bytes: a receive that replays it, and its length."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES, mode="w+b")  # noqa: SIM115 - closed by replay
    length = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            spool.close()
            # The app runs as for any early disconnect: Django gives up reading without a response.
            return _replay_disconnect(), 0
        chunk = message.get("body", b"")
        length += len(chunk)
        if length > limit:
            spool.close()
            raise BodyTooLarge
        spool.write(chunk)
        if not message.get("more_body", False):
            break
    if length == 0:
        spool.close()
        return _replay_empty(receive), 0
    spool.seek(0)
    return _replay(spool, length, receive), length


def _replay_empty(receive: Receive) -> Receive:
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        done = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return replay


def _replay_disconnect() -> Receive:
    async def replay() -> Message:
        return {"type": "http.disconnect"}

    return replay


def _replay(spool: Any, length: int, receive: Receive) -> Receive:
    """Hand the buffered body out in chunks, then pass through to the server (for `http.disconnect`)."""
    finished = False

    async def replay() -> Message:
        nonlocal finished
        if finished:
            return await receive()
        chunk = spool.read(_REPLAY_CHUNK_BYTES)
        more = spool.tell() < length
        if not more:
            finished = True
            spool.close()
        return {"type": "http.request", "body": chunk, "more_body": more}

    return replay
