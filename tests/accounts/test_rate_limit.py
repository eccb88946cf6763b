import threading
from collections import Counter

import pytest
from django.db import connections

from accounts.throttling import limiter
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

CREDITS = "/tryon/v1/account/credits"


def test_headers_on_every_authenticated_response(db):
    account = AccountFactory(rate_limit_per_minute=5)
    client = ApiClient(api_key_for(account))
    first = client.get(CREDITS)
    assert first["X-RateLimit-Limit"] == "5"
    assert first["X-RateLimit-Remaining"] == "4"
    assert 1 <= int(first["X-RateLimit-Reset"]) <= 60
    for expected in ("3", "2", "1", "0"):
        assert client.get(CREDITS)["X-RateLimit-Remaining"] == expected
    refused = client.get(CREDITS)
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Remaining"] == "0"


def test_another_account_is_unaffected(db):
    busy, quiet = AccountFactory(rate_limit_per_minute=2), AccountFactory(rate_limit_per_minute=2)
    busy_client, quiet_client = ApiClient(api_key_for(busy)), ApiClient(api_key_for(quiet))
    statuses = [busy_client.get(CREDITS).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert quiet_client.get(CREDITS).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_exact_limit_under_concurrency():
    """20 concurrent clients send 150 requests in total inside a minute: exactly the limit passes."""
    account = AccountFactory(rate_limit_per_minute=100)
    other = AccountFactory(rate_limit_per_minute=100)
    key = api_key_for(account)
    # One request first records the key's use and caches it, so the race below is the limiter's alone (on SQLite a
    # concurrent `last_used_at` write would fail a reader with "table is locked"); then the window starts empty.
    assert ApiClient(key).get(CREDITS).status_code == 200
    limiter().storage.reset()
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def client_thread(count: int) -> None:
        client = ApiClient(key)
        start.wait()
        local = [client.get(CREDITS).status_code for _ in range(count)]
        with lock:
            results.extend(local)
        connections.close_all()

    counts = [8] * 10 + [7] * 10  # 150 requests
    threads = [threading.Thread(target=client_thread, args=(n,)) for n in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 150
    assert Counter(results) == {200: 100, 429: 50}
    assert ApiClient(api_key_for(other)).get(CREDITS).status_code == 200


def test_limit_store_outage_fails_open(db, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from accounts import throttling

    class Down:
        storage = None  # not a Redis store: the limiter's own two calls are used

        def hit(self, *args):
            raise RedisConnectionError("down")

    monkeypatch.setattr(throttling, "limiter", lambda: Down())
    account = AccountFactory(rate_limit_per_minute=1)
    client = ApiClient(api_key_for(account))
    responses = [client.get(CREDITS) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in responses[0]
