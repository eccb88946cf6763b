"""The size limit and the error shape as a client meets them: a real uvicorn process on loopback, driven with raw
sockets (the test client never goes through the ASGI server, its parser or its body framing)."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.images import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LIMIT = 1_000_000


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Server:
    port: int
    api_key: str
    image_url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _image_server() -> ThreadingHTTPServer:
    image = jpeg_bytes(width=400, height=500)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _server_env(var_dir: Path, image_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tryon_project.settings",
        DATABASE_URL="",
        REDIS_URL="",
        TRYON_VAR_DIR=str(var_dir),
        TRYON_MAX_REQUEST_BYTES=str(LIMIT),
        TRYON_FETCH_ALLOW_NETWORKS="127.0.0.1/32",
        TRYON_FETCH_ALLOWED_PORTS=f"80,443,{image_port}",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    return env


def _start(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen:
    # The documented production command line (docs/deployment.md), plus the protocol choice under test.
    process = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "tryon_project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("uvicorn did not start")


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, Server]]:
    """One embedded-mode installation served twice: by uvicorn's default (httptools) and its h11 protocol."""
    var_dir = tmp_path_factory.mktemp("server-var")
    images = _image_server()
    env = _server_env(var_dir, images.server_port)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    api_key = subprocess.run(
        [*manage, "bootstrap_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    image_url = f"http://127.0.0.1:{images.server_port}/tee.jpg"
    processes, found = [], {}
    try:
        for name, extra in (("httptools", ()), ("h11", ("--http", "h11"))):
            port = _free_port()
            processes.append(_start(env, port, *extra))
            found[name] = Server(port=port, api_key=api_key, image_url=image_url)
        yield found
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        images.shutdown()


def _read_response(sock: socket.socket, timeout: float = 10.0) -> RawResponse:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response: {data[:200]!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, remaining = b"", rest
        while remaining:
            size_line, _, remaining = remaining.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            body, remaining = body + remaining[:size], remaining[size + 2 :]
        return RawResponse(status, headers, body)
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return RawResponse(status, headers, rest[:length])


def _exchange(server: Server, raw: bytes) -> RawResponse:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        return _read_response(sock)


def _assert_error(response: RawResponse, status: int, code: str) -> None:
    assert response.status == status, response.body[:300]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["message"]


def _chunked(payload: bytes, size: int = 4096) -> bytes:
    out = b"".join(
        b"%x\r\n%s\r\n" % (len(payload[i : i + size]), payload[i : i + size]) for i in range(0, len(payload), size)
    )
    return out + b"0\r\n\r\n"


def _head(server: Server, method: str, path: str, *lines: str) -> bytes:
    headers = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"x-api-key: {server.api_key}", *lines]
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


@pytest.mark.parametrize("impl", ["httptools", "h11"])
def test_huge_declared_length_is_refused_before_any_body_byte(servers, impl):
    server = servers[impl]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        # 1.5 GB announced, not one byte of it sent: the answer must not wait for the body.
        sock.sendall(
            _head(server, "POST", "/tryon/v1/products", "Content-Type: application/json", "Content-Length: 1500000000")
        )
        response = _read_response(sock, timeout=5)
        elapsed = time.monotonic() - started
    _assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.headers["connection"] == "close"
    assert elapsed < 2.0


def test_huge_declared_length_without_a_key_is_refused_too(servers):
    server = servers["httptools"]
    raw = b"POST /tryon/v1/images/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1500000000\r\n\r\n"
    _assert_error(_exchange(server, raw), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("impl", ["httptools", "h11"])
def test_chunked_body_over_the_limit_is_cut_at_the_limit(servers, impl):
    server = servers[impl]
    chunk = b"a" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            _head(server, "POST", "/tryon/v1/products", "Content-Type: application/json", "Transfer-Encoding: chunked")
        )
        answered = False
        while sent < LIMIT + _socket_buffers_max() + 10 * LIMIT:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            sent += len(chunk)
        assert answered, "the server kept reading far past the limit"
        response = _read_response(sock, timeout=5)
    _assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    # The server stops at the limit; what the kernel's socket buffers of both ends took is all that was sent past it.
    assert sent < LIMIT + _socket_buffers_max() + len(chunk)


def _socket_buffers_max() -> int:
    total = 0
    for name in ("tcp_rmem", "tcp_wmem"):
        try:
            total += int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            total += 8 * 1024 * 1024
    return total


@pytest.mark.parametrize("impl", ["httptools", "h11"])
def test_chunked_json_is_read(servers, impl):
    server = servers[impl]
    payload = json.dumps(
        {"externalId": f"chunked-{impl}", "title": "Chunked tee", "images": [{"url": server.image_url}]}
    ).encode()
    raw = _head(
        server, "POST", "/tryon/v1/products", "Content-Type: application/json", "Transfer-Encoding: chunked"
    ) + _chunked(payload, size=16)
    response = _exchange(server, raw)
    assert response.status == 201, response.body[:300]
    body = response.json()
    assert body["externalId"] == f"chunked-{impl}"
    assert body["title"] == "Chunked tee"
    # The same body again, declared: the catalog saw the same product (200, not a second create).
    declared = (
        _head(server, "POST", "/tryon/v1/products", "Content-Type: application/json", f"Content-Length: {len(payload)}")
        + payload
    )
    again = _exchange(server, declared)
    assert again.status == 200 and again.json()["externalId"] == f"chunked-{impl}"


def test_chunked_body_without_required_field_is_validated_on_its_content(servers):
    server = servers["httptools"]
    payload = json.dumps({"externalId": "no-images", "title": "T"}).encode()
    raw = _head(
        server, "POST", "/tryon/v1/products", "Content-Type: application/json", "Transfer-Encoding: chunked"
    ) + _chunked(payload, size=7)
    # Read as sent: it has an externalId, so the refusal is about its missing images.
    _assert_error(_exchange(server, raw), 400, "PRODUCT_IMAGES_REQUIRED")


@pytest.mark.parametrize("impl", ["httptools", "h11"])
@pytest.mark.parametrize(
    "request_line",
    [
        b"FOO /tryon/v1/products HTTP/1.1",
        b"GET /tryon/v1/products?" + b"q" * 200_000 + b" HTTP/1.1",
        b"GET /" + b"p" * 200_000 + b" HTTP/1.1",
        b"GET /tryon/v1/products HTTP/9.9",
    ],
    ids=["unknown-method", "long-query", "long-path", "bad-version"],
)
def test_unparseable_requests_answer_the_json_error_shape(servers, impl, request_line):
    raw = request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    response = _exchange(servers[impl], raw)
    if response.status == 400:
        _assert_error(response, 400, "MALFORMED_REQUEST")
    else:
        # A parser that accepts the line hands it to the application, which answers in the same shape.
        assert response.headers["content-type"] == "application/json"
        assert response.status in (401, 404, 405)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/files/", 404, "NOT_FOUND"),
        ("/files/customers/2026/", 403, "FORBIDDEN"),
        ("/no-such-page", 404, "NOT_FOUND"),
        ("/tryon/v1/nothing", 404, "NOT_FOUND"),
    ],
)
def test_unmatched_paths_answer_the_json_error_shape(servers, path, status, code):
    raw = _head(servers["httptools"], "GET", path, "Connection: close")
    _assert_error(_exchange(servers["httptools"], raw), status, code)


def test_dashboard_pages_stay_html(servers):
    response = _exchange(
        servers["httptools"], _head(servers["httptools"], "GET", "/dashboard/nope", "Connection: close")
    )
    # People get the login page's redirect, not an API error body.
    assert response.status == 302
    assert response.headers["location"].startswith("/dashboard/login/")
    assert response.headers.get("content-type", "").split(";")[0] != "application/json"
