"""A local webhook receiver and an independent implementation of the verification in docs/webhooks.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.images import jpeg_bytes

SHIRT = jpeg_bytes(width=500, height=500, color=(200, 30, 30))


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Receiver:
    base: str
    port: int
    received: list[Received] = field(default_factory=list)
    # Answers for the next POSTs, in order: (status, extra headers); 200 once they run out.
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"{self.base}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    receiver: Receiver

    def do_GET(self) -> None:  # product images for the worker
        self._reply(200, {"Content-Type": "image/jpeg"}, SHIRT)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.receiver.received.append(
            Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        )
        status, headers = self.receiver.answers.pop(0) if self.receiver.answers else (200, {})
        self._reply(status, headers, b"ok")

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@contextmanager
def receiver_server() -> Iterator[Receiver]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    receiver = Receiver(base=f"http://127.0.0.1:{port}", port=port)
    server.RequestHandlerClass = type("Handler", (_Handler,), {"receiver": receiver})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def verify(*, secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    """docs/webhooks.md "Verifying a delivery", written from the document and not from the server's code."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    entries = [entry.split(",", 1) for entry in headers["webhook-signature"].split(" ")]
    return any(version == "v1" and hmac.compare_digest(value.encode(), expected) for version, value in entries)
