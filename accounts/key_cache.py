"""The authenticated-key cache: key hash → the active key with its account, held in each web process's memory, so
a poll costs neither a key query nor a cache round trip carrying a pickled key.

Staleness is bounded twice:

- every entry expires after TRYON_API_KEY_CACHE_SECONDS;
- every write that changes what authentication decides (revoking a key, an account's settings, rate limit, engine
  or activity, any save or delete of either model) replaces one shared *version* token in the project's cache
  (Redis when REDIS_URL is set). Each request compares its entry's token with the shared one (one small GET on a
  connection the process keeps), so a change made by any process is seen by every other one on its next request.

The token is read *before* the database on a miss: a change committed after that read replaces the token, so the
entry it fills is already outdated and is read again on the next request; one committed before it is in the row.

When the shared cache fails or stays silent past its timeouts, the cache pauses for STORE_RETRY_AFTER_SECONDS:
every key is read from the database (a change could not be announced meanwhile) and the store is not asked, so an
outage costs one timeout per process, not one per request. Embedded mode (no Redis): the token lives in process
memory, and a change made by another process (a management command) is seen within the TTL."""

from __future__ import annotations

import copy
import functools
import logging
import secrets
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from accounts.models import Account, ApiKey

logger = logging.getLogger("tryon.api")

_VERSION_KEY = "tryon:apikey-version"
_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
# After a store failure, keys are read from the database for this long before the store is asked again.
STORE_RETRY_AFTER_SECONDS = 5.0
# Entries are only ever valid keys, so this bounds memory against a process serving very many merchants.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class KeyCacheVersion:
    """The shared token as read before a database lookup; `value` is None while no change was ever announced."""

    value: str | None


@dataclass(frozen=True)
class _Entry:
    api_key: ApiKey
    version: str | None
    expires_at: float  # time.monotonic()


_entries: dict[str, _Entry] = {}
_store_down_until = 0.0


def api_key_cache_reset() -> None:
    """Forget every entry and ask the store again from the next request on (tests start every case clean)."""
    global _store_down_until
    _entries.clear()
    _store_down_until = 0.0


@functools.cache
def _redis_client(location: str, connect_timeout: float | None, socket_timeout: float | None) -> redis.Redis:
    # Django's cache builds a client object on every call; the hot path keeps one per process (and pool).
    return redis.Redis.from_url(location, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout)


def _shared_redis() -> redis.Redis | None:
    """The Redis of the project's cache, or None when the cache is another backend (process memory)."""
    config = settings.CACHES["default"]
    if config["BACKEND"] != _REDIS_BACKEND:
        return None
    location = config["LOCATION"]
    primary = (location[0] if isinstance(location, list | tuple) else location.split(",")[0]).strip()
    options = config.get("OPTIONS", {})
    return _redis_client(primary, options.get("socket_connect_timeout"), options.get("socket_timeout"))


def _version_read() -> str | None:
    client = _shared_redis()
    if client is None:
        return cache.get(_VERSION_KEY)
    raw = client.get(_VERSION_KEY)
    return raw.decode() if isinstance(raw, bytes) else raw


def _version_write(token: str) -> None:
    client = _shared_redis()
    if client is None:
        cache.set(_VERSION_KEY, token, timeout=None)
    else:
        client.set(_VERSION_KEY, token)


def _paused() -> bool:
    return time.monotonic() < _store_down_until


def _pause(exc: Exception) -> None:
    global _store_down_until
    _store_down_until = time.monotonic() + STORE_RETRY_AFTER_SECONDS
    logger.warning("api-key cache unavailable, keys read from the database: %s", type(exc).__name__)


def _private_copy(api_key: ApiKey) -> ApiKey:
    """A copy of the key and of its account: concurrent requests of a process never share a model instance (a
    service may refresh a field of the account it was handed)."""
    account = copy.copy(api_key.account)
    fresh = copy.copy(api_key)
    fresh.account = account
    return fresh


def api_key_cache_get(*, digest: str) -> ApiKey | None:
    """The cached key for this hash, when its entry is within its TTL and no change was announced since it was
    filled; None otherwise (read the database)."""
    if settings.TRYON_API_KEY_CACHE_SECONDS <= 0 or _paused():
        return None
    entry = _entries.get(digest)
    if entry is None:
        return None
    if entry.expires_at <= time.monotonic():
        _entries.pop(digest, None)
        return None
    try:
        version = _version_read()
    except (RedisError, OSError) as exc:  # a cache outage costs a query, not the request
        _pause(exc)
        return None
    if version != entry.version:
        _entries.pop(digest, None)
        return None
    return _private_copy(entry.api_key)


def api_key_cache_version() -> KeyCacheVersion | None:
    """The shared token, to be read before the database lookup whose result `api_key_cache_set` stores; None when
    nothing may be cached now (cache off, or the store is failing)."""
    if settings.TRYON_API_KEY_CACHE_SECONDS <= 0 or _paused():
        return None
    try:
        return KeyCacheVersion(value=_version_read())
    except (RedisError, OSError) as exc:
        _pause(exc)
        return None


def api_key_cache_set(*, api_key: ApiKey, version: KeyCacheVersion | None) -> None:
    if version is None or settings.TRYON_API_KEY_CACHE_SECONDS <= 0:
        return
    if len(_entries) >= MAX_ENTRIES:
        _entries.pop(next(iter(_entries), ""), None)  # the oldest entry
    _entries[api_key.key_hash] = _Entry(
        api_key=_private_copy(api_key),
        version=version.value,
        expires_at=time.monotonic() + settings.TRYON_API_KEY_CACHE_SECONDS,
    )


def _announce() -> None:
    try:
        _version_write(secrets.token_hex(8))
    except (RedisError, OSError) as exc:  # the TTL still bounds what other processes keep
        logger.warning("api-key cache unavailable, entries expire by TTL: %s", type(exc).__name__)


def api_key_cache_invalidate() -> None:
    """A change to a key or an account: every process reads its keys from the database on its next request. This
    process's own entries go at once; the shared token is replaced now and again after the surrounding
    transaction commits, so an entry filled from a read before the commit is not trusted either."""
    _entries.clear()
    _announce()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_announce)


# Model saves and deletes (the dashboard's forms, `account.save()` anywhere) invalidate too; conditional UPDATEs
# that bypass signals (revoking) invalidate explicitly in accounts/services.py.
@receiver(post_save, sender=Account, dispatch_uid="api_key_cache_account_saved")
@receiver(post_delete, sender=Account, dispatch_uid="api_key_cache_account_deleted")
@receiver(post_save, sender=ApiKey, dispatch_uid="api_key_cache_key_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="api_key_cache_key_deleted")
def _model_changed(**kwargs: object) -> None:
    api_key_cache_invalidate()
