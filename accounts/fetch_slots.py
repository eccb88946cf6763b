"""Per-account cap on concurrent outbound URL downloads made while a request waits (a customer photo URL).

Each download holds one of the account's `TRYON_FETCH_CONCURRENCY_PER_ACCOUNT` slots; beyond them the request is
refused at once with `429 RATE_LIMITED` and `Retry-After`, before anything is downloaded or written. A download
can take up to the fetcher's total deadline, so without a cap one merchant sending many slowly dripping URLs ties
up web threads that every account shares.

Slots live in the rate-limit store: in Redis when it is configured (one sorted set per account, members are slot
tokens scored by their expiry, taken and counted by one Lua script, so concurrent web processes count exactly), in
process memory otherwise (embedded mode: one web process). A slot is given back in `finally`; one whose process
died mid-download expires by itself after `SLOT_LIFETIME_FACTOR` times the total fetch deadline. Like the rate
limit, an unreachable store fails open (logged): the download runs uncounted rather than the API going down."""

from __future__ import annotations

import functools
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from limits.storage import RedisStorage
from redis.commands.core import Script
from redis.exceptions import RedisError

from accounts.throttling import limiter, store_pause, store_paused
from tryon_project.api.errors import ApiError, ErrorCode

logger = logging.getLogger("tryon.api")

# A slot outlives any download it can cover (the fetcher's total deadline), so only a dead process's slot expires.
SLOT_LIFETIME_FACTOR = 2
# Most downloads take well under a second: the hint a refused client waits before trying again.
RETRY_AFTER_SECONDS = 1
REFUSAL_MESSAGE = (
    "Concurrent URL downloads are limited to {cap} per account; wait `Retry-After` seconds, then send the request "
    "again."
)

# KEYS[1] the account's set; ARGV now, expiry of the new slot, cap, token, key lifetime (s). 1 taken, 0 full.
_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

_memory_lock = threading.Lock()
_memory_slots: dict[str, dict[str, float]] = {}


def _key(*, account_id: int) -> str:
    return f"fetch-slots/account:{account_id}"


def _lifetime() -> float:
    return SLOT_LIFETIME_FACTOR * float(settings.TRYON_FETCH_TOTAL_TIMEOUT)


def _redis_store() -> RedisStorage | None:
    store = limiter().storage
    return store if isinstance(store, RedisStorage) else None


def _redis(store: RedisStorage) -> Any:
    # limits types its client as a narrow protocol (no sorted-set commands); it is a redis-py client.
    return store.get_connection()


@functools.cache
def _acquire_script(store: RedisStorage) -> Script:
    return _redis(store).register_script(_ACQUIRE_LUA)


def _acquire(*, key: str, cap: int, token: str) -> bool:
    now = time.time()
    store = _redis_store()
    if store is not None:
        script = _acquire_script(store)
        lifetime = _lifetime()
        # The limits prefix: the store's own reset (tests, operators) clears the slots with the windows.
        taken = script(keys=[store.prefixed_key(key)], args=[now, now + lifetime, cap, token, math.ceil(lifetime) + 1])
        return bool(taken)
    with _memory_lock:
        slots = {t: expires for t, expires in _memory_slots.get(key, {}).items() if expires > now}
        if len(slots) >= cap:
            _memory_slots[key] = slots
            return False
        slots[token] = now + _lifetime()
        _memory_slots[key] = slots
        return True


def _release(*, key: str, token: str) -> None:
    store = _redis_store()
    if store is not None:
        _redis(store).zrem(store.prefixed_key(key), token)
        return
    with _memory_lock:
        _memory_slots.get(key, {}).pop(token, None)


@contextmanager
def fetch_slot_hold(*, account_id: int) -> Iterator[None]:
    """Hold one of the account's download slots for the block; `ApiError(RATE_LIMITED)` with `Retry-After` when
    all are taken. `TRYON_FETCH_CONCURRENCY_PER_ACCOUNT=0` removes the cap."""
    cap = settings.TRYON_FETCH_CONCURRENCY_PER_ACCOUNT
    key, token = _key(account_id=account_id), secrets.token_hex(8)
    held = False
    # While the store is paused after a failure (the rate limit's or ours), the download runs uncounted without
    # asking it: a silent Redis costs one timeout per pause, not one per try-on.
    if cap > 0 and not store_paused():
        try:
            if not _acquire(key=key, cap=cap, token=token):
                raise ApiError(
                    ErrorCode.RATE_LIMITED,
                    REFUSAL_MESSAGE.format(cap=cap),
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            held = True
        except (RedisError, OSError) as exc:
            logger.warning("rate-limit store unavailable, download slot not counted: %s", type(exc).__name__)
            store_pause()
    try:
        yield
    finally:
        if held:
            try:
                _release(key=key, token=token)
            except (RedisError, OSError) as exc:
                # The slot then expires by itself (its lifetime); the download's own outcome stands.
                logger.warning("rate-limit store unavailable, download slot left to expire: %s", type(exc).__name__)


def fetch_slots_in_use(*, account_id: int) -> int:
    """How many of the account's download slots are held now (expired ones not counted)."""
    key, now = _key(account_id=account_id), time.time()
    store = _redis_store()
    if store is not None:
        return int(_redis(store).zcount(store.prefixed_key(key), f"({now}", "+inf"))
    with _memory_lock:
        return sum(1 for expires in _memory_slots.get(key, {}).values() if expires > now)


def fetch_slots_reset() -> None:
    """Forget every slot held in process memory (tests start empty; Redis slots go with the store's reset)."""
    with _memory_lock:
        _memory_slots.clear()
