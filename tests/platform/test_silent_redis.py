"""A Redis that accepts connections and never answers (a tarpit on loopback): no request hangs. The rate limit fails
open within the read timeout and then stops asking for a while, the key cache costs a query, /readyz reports it,
and a task publish gives up within its bound."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches

from accounts import key_cache, throttling
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

CREDITS = "/tryon/v1/account/credits"
TRYON = "/tryon/v1/try-on"
ROOT = Path(__file__).resolve().parents[2]


class Tarpit:
    """Accepts every connection, reads what is sent, never writes a byte."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/7"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    server = Tarpit()
    yield server
    server.close()


@pytest.fixture
def silent_limit_store(tarpit, settings):
    settings.TRYON_RATE_LIMIT_STORAGE = tarpit.url
    settings.REDIS_CONNECT_TIMEOUT = 0.5
    settings.REDIS_SOCKET_TIMEOUT = 0.5
    throttling._limiter.cache_clear()
    yield tarpit
    throttling._limiter.cache_clear()


def test_rate_limit_fails_open_within_the_read_timeout_then_stops_asking(silent_limit_store, db, caplog):
    client = ApiClient(api_key_for(AccountFactory(rate_limit_per_minute=1)))
    started = time.monotonic()
    first = client.get(CREDITS)
    first_elapsed = time.monotonic() - started
    assert first.status_code == 200
    assert "X-RateLimit-Limit" not in first  # not counted
    assert 0.4 < first_elapsed < 2.0
    assert silent_limit_store.accepted >= 1
    assert "rate-limit store unavailable" in caplog.text
    # The next requests are served without waiting on the store again (over a limit of 1/min: still not refused).
    started = time.monotonic()
    statuses = [client.get(CREDITS).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert time.monotonic() - started < 1.0


def test_rate_limit_store_is_asked_again_after_the_pause(silent_limit_store, db, monkeypatch):
    client = ApiClient(api_key_for(AccountFactory()))
    assert client.get(CREDITS).status_code == 200
    asked_before = silent_limit_store.accepted
    monkeypatch.setattr(throttling, "_store_down_until", time.monotonic() - 1)
    started = time.monotonic()
    assert client.get(CREDITS).status_code == 200
    assert time.monotonic() - started > 0.4  # it waited on the store once more
    assert silent_limit_store.accepted >= asked_before


def test_silent_cache_costs_a_query_not_the_request(
    tarpit, db, settings, django_assert_num_queries, monkeypatch, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": tarpit.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    try:
        client = ApiClient(api_key_for(AccountFactory()))
        started = time.monotonic()
        response = client.get(CREDITS)
        assert response.status_code == 200
        assert tarpit.accepted >= 1
        # One read of the key cache's version, bounded by the read timeout; then the cache pauses.
        assert time.monotonic() - started < 3.0
        assert "api-key cache unavailable" in caplog.text
        asked = tarpit.accepted
        # While paused, keys come from the database and the silent store is not asked at all.
        with django_assert_num_queries(2):  # the key, the balance
            assert client.get(CREDITS).status_code == 200
        assert not key_cache._entries
        assert tarpit.accepted == asked
        # After the pause the store is asked again (and is still silent: the request is still served).
        monkeypatch.setattr(key_cache, "_store_down_until", time.monotonic() - 1)
        assert client.get(CREDITS).status_code == 200
        assert key_cache._paused()
    finally:
        caches["default"].close()


def test_readyz_reports_a_silent_redis_within_its_timeouts(tarpit, anon, db, settings):
    settings.REDIS_URL = tarpit.url
    started = time.monotonic()
    response = anon.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "down"
    assert response.json()["checks"]["database"] == "ok"
    assert elapsed < 2.0
    assert tarpit.accepted == 1


_PUBLISH_PROBE = """
import json, time
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from tryon_project.enqueue import task_enqueue

started = time.monotonic()
sent = task_enqueue(name="generations.run", args=("g",), recovery="the reaper")
publish = time.monotonic() - started
started = time.monotonic()
try:
    cache.get("k")
    cache_error = None
except Exception as exc:
    cache_error = type(exc).__name__
print(json.dumps({"sent": sent, "publish_s": publish, "cache_s": time.monotonic() - started,
                  "cache_error": cache_error, "options": settings.CACHES["default"].get("OPTIONS")}))
"""


def test_production_settings_bound_publish_and_cache_on_a_silent_redis(tarpit):
    """The real settings module with REDIS_URL at the tarpit: the broker publish (through the one enqueue path)
    and the cache give up within their bounds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_"))}
    env.update(DJANGO_SETTINGS_MODULE="tryon_project.settings", REDIS_URL=tarpit.url, SECRET_KEY="probe")
    result = subprocess.run(
        [sys.executable, "-c", _PUBLISH_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["sent"] is False  # logged, recovered by the reaper; never raised
    assert probe["publish_s"] < 6.0
    assert probe["cache_error"] == "TimeoutError"
    assert probe["cache_s"] < 1.5
    assert probe["options"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    assert tarpit.accepted >= 2


def test_download_slots_on_a_silent_store_fail_open_within_the_pause(silent_limit_store, db, settings, caplog):
    """A try-on with a customer URL takes a download slot in the rate-limit store: on a tarpit the first try-on is
    served after the store timed out (the slot is not counted: it fails open like the limit), and the next ones do
    not ask the store at all while the pause lasts. Each question to the tarpit is a connection: redis-py drops a
    connection that timed out."""
    from tests.generations.helpers import image_server

    with image_server() as (base, _):
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [int(base.rsplit(":", 1)[1])]
        client = ApiClient(api_key_for(AccountFactory(credits=10)))
        body = {
            "product": {"externalId": "tee", "title": "Tee", "images": [{"url": f"{base}/shirt.jpg"}]},
            "customer": {"url": f"{base}/person.jpg"},
        }
        assert client.post(TRYON, body, content_type="application/json").status_code == 202
        assert silent_limit_store.accepted == 1  # the rate limit asked once, then paused the store
        assert "rate-limit store unavailable" in caplog.text
        for _ in range(3):
            assert client.post(TRYON, body, content_type="application/json").status_code == 202
    assert silent_limit_store.accepted == 1  # neither the limit nor the download slots asked again
