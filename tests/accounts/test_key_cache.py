"""The authenticated-key cache (accounts/key_cache.py) and the `Authorization: Bearer` alias, driven over HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from accounts.key_cache import _cache_key
from accounts.keys import key_hash
from accounts.models import ApiKey
from accounts.services import account_update_settings, api_key_revoke
from generations.models import Generation
from tests.conftest import ApiClient

CREDITS = "/tryon/v1/account/credits"


def _pending(account) -> Generation:
    return Generation.objects.create(account=account, product_external_id="tee", person_image_key="person/x.jpg")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_bearer_is_an_alias_of_x_api_key(anon, api_key):
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = anon.get(CREDITS, HTTP_AUTHORIZATION=f"{scheme} {api_key}")
        assert response.status_code == 200, scheme
        assert response.json() == {"creditBalance": 10}


def test_x_api_key_wins_over_bearer(anon, api_key):
    response = anon.get(CREDITS, HTTP_X_API_KEY="tok_" + "x" * 43, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")


@pytest.mark.parametrize("header", ["Bearer tok_" + "x" * 43, "Bearer  "])
def test_a_wrong_bearer_key_is_refused(anon, db, header):
    response = anon.get(CREDITS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == ("MISSING_API_KEY" if header.strip() == "Bearer" else "INVALID_API_KEY")


def test_other_authorization_schemes_are_a_missing_key(anon, api_key):
    response = anon.get(CREDITS, HTTP_AUTHORIZATION=f"Basic {api_key}")
    assert response.status_code == 401
    assert response.json() == {"code": "MISSING_API_KEY", "message": "Missing x-api-key header.", "status": 401}


def test_a_poll_with_a_cached_key_is_one_query(api, account, django_assert_num_queries):
    generation = _pending(account)
    path = f"/tryon/v1/generations/{generation.id}"
    assert api.get(path).status_code == 200  # resolves the key, records its use, fills the cache
    with django_assert_num_queries(1):
        response = api.get(path)
    assert response.status_code == 200
    assert response.json()["generationId"] == generation.id


def test_without_the_cache_every_request_reads_the_key(api, account, settings, django_assert_num_queries):
    settings.TRYON_API_KEY_CACHE_SECONDS = 0
    generation = _pending(account)
    path = f"/tryon/v1/generations/{generation.id}"
    api.get(path)
    with django_assert_num_queries(2):
        assert api.get(path).status_code == 200
    assert cache.get(_cache_key(key_hash(api.api_key))) is None


def test_revoking_deletes_the_entry_at_once(api, account, api_key):
    assert api.get(CREDITS).status_code == 200
    assert cache.get(_cache_key(key_hash(api_key))) is not None
    api_key_revoke(api_key=ApiKey.objects.get(account=account))
    assert cache.get(_cache_key(key_hash(api_key))) is None
    assert api.get(CREDITS).json()["code"] == "INVALID_API_KEY"


def test_a_rate_limit_change_is_served_at_once(api, account):
    assert api.get(CREDITS)["X-RateLimit-Limit"] == "100"
    account_update_settings(account=account, rate_limit_per_minute=7)
    assert api.get(CREDITS)["X-RateLimit-Limit"] == "7"


def test_deactivating_the_account_is_served_at_once(api, account):
    assert api.get(CREDITS).status_code == 200
    account_update_settings(account=account, is_active=False)
    assert api.get(CREDITS).json()["code"] == "INVALID_API_KEY"


def test_a_plain_model_save_invalidates_too(api, account):
    assert api.get(CREDITS)["X-RateLimit-Limit"] == "100"
    account.rate_limit_per_minute = 3
    account.save()
    assert api.get(CREDITS)["X-RateLimit-Limit"] == "3"


def test_a_change_no_one_announced_lasts_at_most_the_ttl(api, account, settings):
    # A real wait, not a travelled clock: a Redis cache expires entries by the server's own clock.
    settings.TRYON_API_KEY_CACHE_SECONDS = 1
    assert api.get(CREDITS).status_code == 200
    # A write that sends no signal and deletes nothing (another process's raw UPDATE): stale until the TTL.
    ApiKey.objects.filter(account=account).update(revoked_at=timezone.now())
    assert api.get(CREDITS).status_code == 200
    time.sleep(1.2)
    assert api.get(CREDITS).json()["code"] == "INVALID_API_KEY"


def test_use_is_recorded_once_a_minute_and_the_entry_refreshed(api, account, django_assert_num_queries):
    api.get(CREDITS)
    first = ApiKey.objects.get(account=account).last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the balance only: the key is cached and was touched just now
        api.get(CREDITS)
    assert ApiKey.objects.get(account=account).last_used_at == first
    later = timezone.now() + timedelta(seconds=61)
    with time_machine.travel(later):
        with django_assert_num_queries(3):  # key read again, its use written, the balance
            api.get(CREDITS)
        touched = ApiKey.objects.get(account=account).last_used_at
        assert touched > first
        cached = cache.get(_cache_key(key_hash(api.api_key)))
        assert cached.last_used_at == touched


def test_an_unknown_key_is_never_cached(db):
    plain = "tok_" + "y" * 43
    assert ApiClient(plain).get(CREDITS).status_code == 401
    assert cache.get(_cache_key(key_hash(plain))) is None
