"""The ASGI layer in front of Django, driven in-process with scripted receive/send (the cases a real server cannot
produce on demand: an application that fails or gives up before answering, a body longer than it declared)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tryon_project.api.asgi_limits import RequestGuard


def _scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "method": "POST", "path": "/tryon/v1/products", "headers": headers}


def _run(app, scope: dict, chunks: list[bytes]) -> tuple[list[dict], list[bytes]]:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict] = []
    seen_by_app: list[bytes] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def main():
        await RequestGuard(app, max_bytes=lambda: 100)(scope, receive, send)

    app.seen = seen_by_app
    asyncio.run(main())
    return sent, seen_by_app


def _status_and_body(sent: list[dict]) -> tuple[int, dict]:
    return sent[0]["status"], json.loads(sent[1]["body"])


class Reader:
    """Reads the whole body, then answers 200 with what it read."""

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.seen.append(body)
        self.headers = dict(scope["headers"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def test_a_body_longer_than_declared_is_cut_at_the_limit():
    app = Reader()
    sent, seen = _run(app, _scope([(b"content-length", b"10")]), [b"a" * 60, b"a" * 60])
    assert _status_and_body(sent) == (
        413,
        {
            "code": "PAYLOAD_TOO_LARGE",
            "status": 413,
            "message": "The request is over the total size limit (100 bytes).",
        },
    )
    assert seen == []  # the application never got the body


def test_a_chunked_body_reaches_the_app_with_its_length():
    app = Reader()
    sent, seen = _run(app, _scope([(b"transfer-encoding", b"chunked")]), [b"x" * 40, b"y" * 40, b""])
    assert sent[0]["status"] == 200
    assert seen == [b"x" * 40 + b"y" * 40]
    assert app.headers == {b"content-length": b"80"}


def test_a_chunked_body_over_the_limit_never_reaches_the_app():
    app = Reader()
    sent, seen = _run(app, _scope([(b"transfer-encoding", b"chunked")]), [b"x" * 60, b"y" * 60, b"z"])
    assert _status_and_body(sent)[0] == 413
    assert dict(sent[0]["headers"])[b"connection"] == b"close"
    assert seen == []


class Failing:
    seen: list

    async def __call__(self, scope, receive, send):
        raise RuntimeError("boom")


class Silent:
    seen: list

    async def __call__(self, scope, receive, send):
        return None


def test_an_app_failing_before_its_response_answers_json_500():
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    with pytest.raises(RuntimeError):
        asyncio.run(RequestGuard(Failing(), max_bytes=lambda: 100)(_scope([(b"content-length", b"0")]), receive, send))
    assert _status_and_body(sent) == (
        500,
        {"code": "INTERNAL_ERROR", "message": "An internal error occurred.", "status": 500},
    )


def test_an_app_returning_without_a_response_answers_json_500():
    sent, _ = _run(Silent(), _scope([(b"content-length", b"0")]), [b""])
    assert _status_and_body(sent)[0] == 500
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/json"
