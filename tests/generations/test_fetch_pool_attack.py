"""The pool-exhaustion attack against a real uvicorn process on PostgreSQL: one merchant's try-ons whose customer
URLs drip bytes must not take the database pool from another merchant.

The server runs with a pool of 4 connections (3 s checkout timeout) and no key cache, so every request looks its
key up and checks a connection out first, as cold-cache requests do. 22 of account A's try-ons drip at once (the cap
is raised to 22 here, so the connection release is what is proven): B's requests are all answered 200, none of A's
is a 503, a 23rd of A's is 429 at once, and when the drips end every slot is back in the shared (Redis) store."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from accounts.fetch_slots import REFUSAL_MESSAGE, fetch_slots_in_use
from tests.conftest import postgres_only
from tests.factories import AccountFactory, api_key_for

ROOT = Path(__file__).resolve().parents[2]
DRIPPING = 22
POOL = 4
WAIT = 60.0

pytestmark = [pytest.mark.django_db(transaction=True), postgres_only()]


@dataclass
class Drip:
    """Answers `/drip/…` with a 1 MB Content-Length and one byte every 0.2 s until released, then hangs up."""

    server: ThreadingHTTPServer
    release: threading.Event = field(default_factory=threading.Event)
    arrived: list[str] = field(default_factory=list)
    all_arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]


@pytest.fixture
def drip() -> Iterator[Drip]:
    state: Drip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.arrived.append(self.path)
                if len(state.arrived) >= DRIPPING:
                    state.all_arrived.set()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                while not state.release.wait(0.2):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:
                return  # the client gave up (its deadline, or the server stopping)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Drip(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web(drip) -> Iterator[int]:
    """uvicorn on the test database (the rows this test commits), with a small pool and the shared Redis store."""
    database = connection.settings_dict
    auth = database["USER"] + (f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tryon_project.settings",
        DATABASE_URL=f"postgres://{auth}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "test-only-secret-key",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE=str(POOL),
        DB_POOL_TIMEOUT="3",
        TRYON_API_KEY_CACHE_SECONDS="0",
        TRYON_FETCH_CONCURRENCY_PER_ACCOUNT=str(DRIPPING),
        TRYON_FETCH_ALLOW_NETWORKS="127.0.0.1/32",
        TRYON_FETCH_ALLOWED_PORTS=f"80,443,{drip.port}",
        TRYON_FETCH_READ_TIMEOUT="30",
        TRYON_FETCH_TOTAL_TIMEOUT="60",
        TRYON_ACCESS_LOG="false",
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "tryon_project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()[-2000:])
            try:
                if _call(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        # Stopped inside the test: its pool's connections must be gone before the test database is flushed.
        process.terminate()
        process.wait(timeout=20)


def _call(port: int, method: str, path: str, *, key: str = "", body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    headers = {"x-api-key": key} if key else {}
    payload = None
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(data) if data else {}
    finally:
        conn.close()


def _tryon(url: str) -> dict:
    return {
        "product": {"externalId": "m", "title": "mock", "images": [{"url": "https://cdn.example/m.jpg"}]},
        "customer": {"url": url},
    }


def test_dripping_downloads_of_one_account_leave_the_pool_to_another(drip, web):
    shared_store = bool(settings.REDIS_URL)
    a, b = AccountFactory(credits=5), AccountFactory(credits=5)
    key_a, key_b = api_key_for(a), api_key_for(b)
    base = f"http://127.0.0.1:{drip.port}"
    with ThreadPoolExecutor(max_workers=DRIPPING) as pool:
        dripping = [
            pool.submit(_call, web, "POST", "/tryon/v1/try-on", key=key_a, body=_tryon(f"{base}/drip/{i}"))
            for i in range(DRIPPING)
        ]
        assert drip.all_arrived.wait(WAIT), f"{len(drip.arrived)} of {DRIPPING} downloads started"

        # Every one of A's downloads is running, each request having looked its key up: B is still served.
        b_statuses = [_call(web, "GET", "/tryon/v1/products?limit=1", key=key_b)[0] for _ in range(2 * POOL)]
        assert b_statuses == [200] * (2 * POOL)

        status, headers, body = _call(web, "POST", "/tryon/v1/try-on", key=key_a, body=_tryon(f"{base}/drip/x"))
        assert (status, headers.get("retry-after"), body) == (
            429,
            "1",
            {"code": "RATE_LIMITED", "message": REFUSAL_MESSAGE.format(cap=DRIPPING), "status": 429},
        )
        assert len(drip.arrived) == DRIPPING  # the refused one was never fetched
        if shared_store:
            assert fetch_slots_in_use(account_id=a.pk) == DRIPPING

        drip.release.set()
        results = [future.result(timeout=WAIT) for future in dripping]
    assert [(status, body["code"]) for status, _, body in results] == [(400, "CUSTOMER_IMAGE_FETCH_FAILED")] * DRIPPING
    if shared_store:  # the server's slots, read from this process: one store for every process
        assert fetch_slots_in_use(account_id=a.pk) == 0
