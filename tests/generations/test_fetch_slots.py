"""Customer photo URLs: no database connection is held while one downloads, and an account may have only
`TRYON_FETCH_CONCURRENCY_PER_ACCOUNT` downloads running at once (429 RATE_LIMITED beyond), counted per account in
the rate-limit store (Redis with REDIS_URL, process memory otherwise) and always given back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection, connections
from django.test import override_settings

from accounts.fetch_slots import REFUSAL_MESSAGE, fetch_slot_hold, fetch_slots_in_use
from customers.models import CustomerImage
from generations.models import Generation
from tests.conftest import ApiClient, postgres_only
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.http_fetch import client as fetch_client

TRYON = "/tryon/v1/try-on"
CREDITS = "/tryon/v1/account/credits"
PERSON = jpeg_bytes(width=400, height=500, color=(120, 100, 90))
WAIT = 20.0


@dataclass
class Remote:
    """A remote image host whose `/hold/…` answers wait until released (then 404), like a URL that drips."""

    base: str
    server: ThreadingHTTPServer
    release: threading.Event = field(default_factory=threading.Event)
    arrived: list[str] = field(default_factory=list)
    # Connections checked out of the PostgreSQL pool at each arrival (None on SQLite: no pool).
    checked_out: list[int | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    all_arrived: threading.Event = field(default_factory=threading.Event)
    expected: int = 0

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _checked_out() -> int | None:
    pool = getattr(connection, "pool", None) if connection.vendor == "postgresql" else None
    if pool is None:
        return None
    stats = pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


@contextmanager
def remote_host() -> Iterator[Remote]:
    remote: Remote

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/hold/"):
                with remote.lock:
                    remote.arrived.append(self.path)
                    remote.checked_out.append(_checked_out())
                    if len(remote.arrived) >= remote.expected:
                        remote.all_arrived.set()
                remote.release.wait(WAIT)
                self._reply(404, b"gone")
            elif self.path == "/not-an-image":
                self._reply(200, b"<html><body>not an image</body></html>", content_type="image/jpeg")
            elif self.path == "/person.jpg":
                self._reply(200, PERSON, content_type="image/jpeg")
            else:
                self._reply(404, b"missing")

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    remote = Remote(base=f"http://127.0.0.1:{server.server_address[1]}", server=server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(
            TRYON_FETCH_ALLOW_NETWORKS=["127.0.0.1/32"],
            TRYON_FETCH_ALLOWED_PORTS=[80, 443, server.server_address[1]],
        ):
            yield remote
    finally:
        remote.release.set()
        server.shutdown()
        server.server_close()


def _mock_tryon(url: str) -> dict:
    return {
        "product": {"externalId": "m", "title": "mock", "images": [{"url": "https://cdn.example/m.jpg"}]},
        "customer": {"url": url},
    }


def _post_in_thread(api_key: str, url: str):
    def run():
        try:
            return ApiClient(api_key).post_json(TRYON, _mock_tryon(url))
        finally:
            connections.close_all()

    return run


@pytest.fixture
def remote() -> Iterator[Remote]:
    with remote_host() as found:
        yield found


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_no_database_connection_is_checked_out_while_a_customer_url_downloads(remote, monkeypatch):
    # Every request looks its key up (no key cache), as the first requests after a start do: the lookup is what
    # took the connection that used to stay checked out for the whole download.
    account = AccountFactory()
    api_key = api_key_for(account)
    remote.expected = 1
    held_at_fetch: list[object] = []
    real_fetch = fetch_client._fetch

    def spy(**kwargs):
        held_at_fetch.extend(c.connection for c in connections.all(initialized_only=True))
        return real_fetch(**kwargs)

    monkeypatch.setattr(fetch_client, "_fetch", spy)
    with override_settings(TRYON_API_KEY_CACHE_SECONDS=0):
        remote.release.set()  # answered at once: this test looks at the connection, not at the waiting
        response = ApiClient(api_key).post_json(TRYON, _mock_tryon(remote.url("/hold/1")))
    assert response.status_code == 400 and response.json()["code"] == "CUSTOMER_IMAGE_FETCH_FAILED"
    assert held_at_fetch == [None]
    assert remote.checked_out == [0]


@pytest.mark.django_db(transaction=True)
def test_downloads_beyond_the_cap_are_refused_and_another_account_is_not(remote, settings):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 2
    a, b = AccountFactory(credits=5), AccountFactory(credits=5)
    key_a, key_b = api_key_for(a), api_key_for(b)
    for key in (key_a, key_b):  # the key lookups and their touch are done: the threads below only read
        assert ApiClient(key).get(CREDITS).status_code == 200
    remote.expected = 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = [pool.submit(_post_in_thread(key_a, remote.url(f"/hold/{i}"))) for i in range(2)]
        assert remote.all_arrived.wait(WAIT)
        assert fetch_slots_in_use(account_id=a.pk) == 2

        refused = ApiClient(key_a).post_json(TRYON, _mock_tryon(remote.url("/hold/3")))
        assert refused.status_code == 429
        assert refused["Retry-After"] == "1"
        assert refused.json() == {"code": "RATE_LIMITED", "message": REFUSAL_MESSAGE.format(cap=2), "status": 429}
        assert remote.arrived == ["/hold/0", "/hold/1"] or remote.arrived == ["/hold/1", "/hold/0"]

        other = ApiClient(key_b).post_json(TRYON, _mock_tryon(remote.url("/person.jpg")))
        assert other.status_code == 202, other.content
        assert fetch_slots_in_use(account_id=b.pk) == 0

        remote.release.set()
        statuses = [future.result(timeout=WAIT) for future in held]
    assert [r.json()["code"] for r in statuses] == ["CUSTOMER_IMAGE_FETCH_FAILED"] * 2
    assert fetch_slots_in_use(account_id=a.pk) == 0
    # The refused request wrote nothing and charged nothing; account B's went through.
    assert not CustomerImage.objects.filter(account=a).exists()
    assert not Generation.objects.filter(account=a).exists()
    assert Generation.objects.filter(account=b).count() == 1
    a.refresh_from_db()
    assert a.credit_balance == 5
    again = ApiClient(key_a).post_json(TRYON, _mock_tryon(remote.url("/person.jpg")))
    assert again.status_code == 202, again.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/missing", "/not-an-image"])
def test_a_failed_download_gives_its_slot_back(remote, settings, path):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 1
    account = AccountFactory()
    api = ApiClient(api_key_for(account))
    for _ in range(3):
        response = api.post_json(TRYON, _mock_tryon(remote.url(path)))
        assert response.status_code == 400 and response.json()["code"] == "CUSTOMER_IMAGE_FETCH_FAILED"
        assert fetch_slots_in_use(account_id=account.pk) == 0
    assert api.post_json(TRYON, _mock_tryon(remote.url("/person.jpg"))).status_code == 202


@pytest.mark.django_db
def test_a_crash_inside_the_download_gives_its_slot_back(remote, settings, monkeypatch):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 1
    account = AccountFactory()
    api = ApiClient(api_key_for(account))

    def crash(**kwargs):
        raise RuntimeError("bug in the fetcher")

    monkeypatch.setattr("generations.services.create.url_fetch", crash)
    api.raise_request_exception = False
    assert api.post_json(TRYON, _mock_tryon(remote.url("/person.jpg"))).status_code == 500
    assert fetch_slots_in_use(account_id=account.pk) == 0
    monkeypatch.undo()
    assert api.post_json(TRYON, _mock_tryon(remote.url("/person.jpg"))).status_code == 202


def test_slots_are_counted_per_account(settings):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 1
    with fetch_slot_hold(account_id=1), fetch_slot_hold(account_id=2):
        assert (fetch_slots_in_use(account_id=1), fetch_slots_in_use(account_id=2)) == (1, 1)
        with pytest.raises(ApiError) as refused, fetch_slot_hold(account_id=1):
            pass
        assert refused.value.code is ErrorCode.RATE_LIMITED
    assert (fetch_slots_in_use(account_id=1), fetch_slots_in_use(account_id=2)) == (0, 0)


def test_the_slot_of_a_dead_process_expires(settings):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 1
    settings.TRYON_FETCH_TOTAL_TIMEOUT = 15.0
    with time_machine.travel(1_900_000_000, tick=False) as traveller:
        leaked = fetch_slot_hold(account_id=7)
        leaked.__enter__()  # never left: the process died mid-download
        with pytest.raises(ApiError, match="URL downloads are limited to 1 per account"), fetch_slot_hold(account_id=7):
            pass
        traveller.shift(29)
        assert fetch_slots_in_use(account_id=7) == 1
        traveller.shift(2)  # past twice the total deadline
        assert fetch_slots_in_use(account_id=7) == 0
        with fetch_slot_hold(account_id=7):
            assert fetch_slots_in_use(account_id=7) == 1
        del leaked


def test_zero_removes_the_cap(settings):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 0
    with fetch_slot_hold(account_id=3), fetch_slot_hold(account_id=3):
        assert fetch_slots_in_use(account_id=3) == 0


def test_an_unreachable_store_fails_open(settings, caplog):
    settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = 1
    settings.TRYON_RATE_LIMIT_STORAGE = "redis://127.0.0.1:1/0"
    with fetch_slot_hold(account_id=4), fetch_slot_hold(account_id=4):
        pass
    assert "download slot not counted: ConnectionError" in caplog.text
