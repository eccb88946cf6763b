"""The authenticated-key cache: key hash → the active key with its account, so a poll costs no key query.

Entries live in the project's cache (Redis when REDIS_URL is set, so every process shares them; process memory
otherwise). Staleness is bounded twice: every entry expires after TRYON_API_KEY_CACHE_SECONDS, and every write that
changes what authentication decides (revoking a key, an account's settings, rate limit, engine or activity) deletes
the account's entries explicitly. A process that cannot see the deletion (embedded mode without Redis, a
management command in another process) is stale for at most the TTL."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from accounts.models import Account, ApiKey

logger = logging.getLogger("tryon.api")

_PREFIX = "tryon:apikey:"


def _cache_key(digest: str) -> str:
    return _PREFIX + digest


def api_key_cache_get(*, digest: str) -> ApiKey | None:
    if settings.TRYON_API_KEY_CACHE_SECONDS <= 0:
        return None
    try:
        return cache.get(_cache_key(digest))
    except (RedisError, OSError) as exc:  # a cache outage costs a query, not the request
        logger.warning("api-key cache unavailable: %s", type(exc).__name__)
        return None


def api_key_cache_set(*, api_key: ApiKey) -> None:
    if settings.TRYON_API_KEY_CACHE_SECONDS <= 0:
        return
    try:
        cache.set(_cache_key(api_key.key_hash), api_key, timeout=settings.TRYON_API_KEY_CACHE_SECONDS)
    except (RedisError, OSError) as exc:
        logger.warning("api-key cache unavailable: %s", type(exc).__name__)


def api_key_cache_forget(*, digests: list[str]) -> None:
    if not digests:
        return
    try:
        cache.delete_many([_cache_key(digest) for digest in digests])
    except (RedisError, OSError) as exc:  # the TTL still bounds what a failed delete leaves
        logger.warning("api-key cache unavailable, entries expire by TTL: %s", type(exc).__name__)


def api_key_cache_forget_account(*, account_id: int) -> None:
    api_key_cache_forget(digests=list(ApiKey.objects.filter(account_id=account_id).values_list("key_hash", flat=True)))


# Model saves and deletes (the dashboard's forms, `account.save()` anywhere) invalidate too; conditional UPDATEs
# that bypass signals (revoking) delete explicitly in accounts/services.py.
@receiver(post_save, sender=Account, dispatch_uid="api_key_cache_account_saved")
@receiver(post_delete, sender=Account, dispatch_uid="api_key_cache_account_deleted")
def _account_changed(*, instance: Account, **kwargs: object) -> None:
    api_key_cache_forget_account(account_id=instance.pk)


@receiver(post_save, sender=ApiKey, dispatch_uid="api_key_cache_key_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="api_key_cache_key_deleted")
def _key_changed(*, instance: ApiKey, **kwargs: object) -> None:
    api_key_cache_forget(digests=[instance.key_hash])
