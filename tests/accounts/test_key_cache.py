"""The authenticated-key cache (accounts/key_cache.py) and the `Authorization: Bearer` alias, driven over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts import key_cache
from accounts.keys import key_hash
from accounts.models import Account, ApiKey
from accounts.services import account_update_settings, api_key_revoke
from generations.models import Generation
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

ROOT = Path(__file__).resolve().parents[2]

CREDITS = "/tryon/v1/account/credits"


def _cached(plain: str) -> bool:
    return key_hash(plain) in key_cache._entries


def _another_process_changes(*, write) -> None:
    """What a write made by another web process leaves here: the row changed (no signal in this process), the
    shared version replaced, and this process's own entries untouched."""
    write()
    key_cache._announce()


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
    assert not _cached(api.api_key)


def test_revoking_deletes_the_entry_at_once(api, account, api_key):
    assert api.get(CREDITS).status_code == 200
    assert _cached(api_key)
    api_key_revoke(api_key=ApiKey.objects.get(account=account))
    assert not _cached(api_key)
    assert api.get(CREDITS).json()["code"] == "INVALID_API_KEY"
    assert not _cached(api_key)


def test_a_revoke_in_another_process_is_served_at_once(api, account, api_key, django_assert_num_queries):
    generation = _pending(account)
    path = f"/tryon/v1/generations/{generation.id}"
    assert api.get(path).status_code == 200
    with django_assert_num_queries(1):  # served from this process's entry
        assert api.get(path).status_code == 200
    _another_process_changes(write=lambda: ApiKey.objects.filter(account=account).update(revoked_at=timezone.now()))
    assert _cached(api_key)  # nobody deleted it here: the shared version tells it is outdated
    response = api.get(path)
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")
    assert not _cached(api_key)


@pytest.mark.parametrize(
    ("field", "value", "seen"),
    [("rate_limit_per_minute", 7, lambda r: r["X-RateLimit-Limit"] == "7"), ("engine", "mock", None)],
)
def test_a_settings_change_in_another_process_is_served_at_once(api, account, api_key, field, value, seen):
    assert api.get(CREDITS)["X-RateLimit-Limit"] == "100"
    _another_process_changes(write=lambda: Account.objects.filter(pk=account.pk).update(**{field: value}))
    response = api.get(CREDITS)
    assert response.status_code == 200
    if seen is not None:
        assert seen(response)
    # The entry was filled again from the database, with the new value.
    assert getattr(key_cache._entries[key_hash(api_key)].api_key.account, field) == value


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
        cached = key_cache._entries[key_hash(api.api_key)].api_key
        assert cached.last_used_at == touched


def test_an_unknown_key_is_never_cached(db):
    plain = "tok_" + "y" * 43
    assert ApiClient(plain).get(CREDITS).status_code == 401
    assert not _cached(plain)


def test_each_request_gets_its_own_copy_of_the_cached_key(api, account, api_key):
    assert api.get(CREDITS).status_code == 200
    first = key_cache.api_key_cache_get(digest=key_hash(api_key))
    second = key_cache.api_key_cache_get(digest=key_hash(api_key))
    assert first is not None and second is not None
    assert first is not second and first.account is not second.account
    first.account.credit_balance = -5  # what one request does to its account never reaches another's
    assert second.account.credit_balance == 10
    assert key_cache.api_key_cache_get(digest=key_hash(api_key)).account.credit_balance == 10


def test_a_change_inside_a_transaction_is_announced_again_at_commit(
    api, account, api_key, django_capture_on_commit_callbacks
):
    assert api.get(CREDITS).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        account_update_settings(account=account, rate_limit_per_minute=9)
    before_commit = key_cache._version_read()
    assert before_commit is not None
    # A request between the change and its commit filled the entry again (it could have read the old row).
    assert api.get(CREDITS).status_code == 200
    assert _cached(api_key)
    assert len(callbacks) >= 1
    for callback in callbacks:
        callback()
    assert key_cache._version_read() != before_commit
    assert key_cache.api_key_cache_get(digest=key_hash(api_key)) is None


def test_a_full_cache_drops_its_oldest_entry(db, monkeypatch):
    monkeypatch.setattr(key_cache, "MAX_ENTRIES", 2)
    keys = [api_key_for(AccountFactory()) for _ in range(3)]
    for plain in keys:
        assert ApiClient(plain).get(CREDITS).status_code == 200
    assert [_cached(plain) for plain in keys] == [False, True, True]


_REVOKE_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
from accounts.models import Account, ApiKey
from accounts.services import account_update_settings, api_key_revoke
account = Account.objects.get(pk=int(sys.argv[1]))
account_update_settings(account=account, rate_limit_per_minute=5)
api_key_revoke(api_key=ApiKey.objects.get(key_hash=sys.argv[2]))
print(json.dumps({"done": True}))
"""


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="processes share the cache through Redis (REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_changes_made_by_another_process_are_served_at_once():
    if connection.vendor != "postgresql":
        pytest.skip("another process reaches the test database on PostgreSQL only")
    account = AccountFactory(credits=3)
    plain = api_key_for(account)
    second = api_key_for(account)
    client, other = ApiClient(plain), ApiClient(second)
    assert client.get(CREDITS)["X-RateLimit-Limit"] == "100"
    assert other.get(CREDITS)["X-RateLimit-Limit"] == "100"
    assert _cached(plain) and _cached(second)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tryon_project.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
        "REDIS_URL": django_settings.REDIS_URL,
    }
    result = subprocess.run(
        [sys.executable, "-c", _REVOKE_IN_ANOTHER_PROCESS, str(account.pk), key_hash(plain)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"done": True}
    # This process was told nothing directly: both entries are still here, and neither is served.
    assert _cached(plain) and _cached(second)
    assert client.get(CREDITS).json()["code"] == "INVALID_API_KEY"
    assert other.get(CREDITS)["X-RateLimit-Limit"] == "5"
