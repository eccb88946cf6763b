"""Shared helpers for generation tests: fake engines, an image server, and running the pipeline in-process."""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from engines.base import EngineError, EngineErrorCode, TryOnRequest, TryOnResult
from tests.images import jpeg_bytes

TRYON = "/tryon/v1/try-on"


class FakeEngine:
    """Paints the person image green: a result that is recognisably not the input."""

    name = "fake"
    version = "1"

    def __init__(self, *, errors: list[EngineError] | None = None):
        self.errors = list(errors or [])
        self.calls: list[TryOnRequest] = []

    def run(self, request: TryOnRequest) -> TryOnResult:
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        with Image.open(io.BytesIO(request.person_image)) as person:
            size = person.size
        buffer = io.BytesIO()
        Image.new("RGB", size, (0, 200, 0)).save(buffer, "JPEG")
        return TryOnResult(
            image=buffer.getvalue(),
            content_type="image/jpeg",
            engine="fake",
            engine_version="1",
            timings_ms={"paint": 1.0},
        )


def retryable(message: str = "busy") -> EngineError:
    return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=True)


def terminal(code: EngineErrorCode = EngineErrorCode.PERSON_NOT_DETECTED, message: str = "no person") -> EngineError:
    return EngineError(code, message, retryable=False)


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"missing"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@contextmanager
def image_server() -> Iterator[tuple[str, type[_ImageHandler]]]:
    handler = type(
        "Handler",
        (_ImageHandler,),
        {
            "routes": {
                "/person.jpg": (200, "image/jpeg", jpeg_bytes(width=600, height=800, color=(120, 100, 90))),
                "/shirt.jpg": (200, "image/jpeg", jpeg_bytes(width=500, height=500, color=(200, 30, 30))),
                "/page.html": (200, "image/jpeg", b"<html><body>not an image</body></html>"),
            },
            "hits": [],
        },
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
