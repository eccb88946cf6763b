"""The rate limit's one-round-trip path on Redis answers what `limits`' own two calls answer."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from limits import RateLimitItemPerMinute, storage, strategies

from accounts import throttling
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

CREDITS = "/tryon/v1/account/credits"

redis_only = pytest.mark.skipif(
    not settings.TRYON_RATE_LIMIT_STORAGE.startswith("redis"), reason="needs the Redis rate-limit store (REDIS_URL)"
)


@redis_only
def test_one_round_trip_matches_hit_then_window_stats():
    item = RateLimitItemPerMinute(3)
    identifier = f"pipeline-test:{uuid.uuid4().hex}"
    answers = [throttling.rate_limit_hit(item=item, identifier=identifier) for _ in range(4)]
    assert [(allowed, remaining) for allowed, _, remaining in answers] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    now = time.time()
    assert all(now < reset <= now + 60 for _, reset, _ in answers)
    stats = throttling.limiter().get_window_stats(item, identifier)
    assert stats.remaining == 0 and abs(stats.reset_time - answers[0][1]) < 1
    # A refused request consumed nothing: the library itself still sees exactly 3 entries.
    assert throttling.limiter().test(item, identifier) is False


@redis_only
def test_limit_headers_through_http_on_redis(db):
    client = ApiClient(api_key_for(AccountFactory(rate_limit_per_minute=2)))
    responses = [client.get(CREDITS) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r["X-RateLimit-Remaining"] for r in responses[:2]] == ["1", "0"]


def test_an_unreachable_redis_store_fails_open(db, monkeypatch):
    # Nothing listens on port 1: the pipeline's execute raises a ConnectionError.
    unreachable = strategies.MovingWindowRateLimiter(storage.storage_from_string("redis://127.0.0.1:1/0"))
    monkeypatch.setattr(throttling, "limiter", lambda: unreachable)
    client = ApiClient(api_key_for(AccountFactory(rate_limit_per_minute=1)))
    responses = [client.get(CREDITS) for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    assert "X-RateLimit-Limit" not in responses[0]


@redis_only
def test_a_hit_sends_no_script_exists_round_trip(monkeypatch):
    from redis.client import Pipeline

    def refuse(self):
        raise AssertionError("SCRIPT EXISTS sent")

    monkeypatch.setattr(Pipeline, "load_scripts", refuse)
    item = RateLimitItemPerMinute(2)
    identifier = f"pipeline-test:{uuid.uuid4().hex}"
    answers = [throttling.rate_limit_hit(item=item, identifier=identifier)[::2] for _ in range(3)]
    assert answers == [(True, 1), (True, 0), (False, 0)]


@redis_only
def test_a_store_that_lost_its_scripts_counts_each_hit_once():
    item = RateLimitItemPerMinute(3)
    identifier = f"pipeline-test:{uuid.uuid4().hex}"
    assert throttling.rate_limit_hit(item=item, identifier=identifier)[::2] == (True, 2)
    throttling.limiter().storage.get_connection().script_flush()
    assert throttling.rate_limit_hit(item=item, identifier=identifier)[::2] == (True, 1)
    assert throttling.limiter().get_window_stats(item, identifier).remaining == 1
