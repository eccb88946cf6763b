"""Per-account rate limit: a rolling 60 s window, atomic in Redis (the `limits` library's moving window runs
as one Lua script), in-process memory in embedded mode.

The store is consulted with connect and read timeouts (REDIS_CONNECT_TIMEOUT, REDIS_SOCKET_TIMEOUT). When it fails
(closed port, or a Redis that accepts and never answers) the request is served uncounted (fail open, logged), and
for the next few seconds the store is not asked at all, so an outage costs one timeout per process, not one per
request."""

from __future__ import annotations

import functools
import logging
import math
import time

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerMinute, storage, strategies
from limits.storage import RedisStorage
from redis.exceptions import NoScriptError, RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("tryon.api")


# After a store failure, requests are served uncounted for this long before the store is tried again.
STORE_RETRY_AFTER_SECONDS = 5.0
_store_down_until = 0.0


@functools.cache
def _limiter(uri: str) -> strategies.MovingWindowRateLimiter:
    options = {}
    if uri.startswith(("redis://", "rediss://", "redis+", "unix://")):
        options = {
            "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
            "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        }
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(uri, **options))


def store_retry_reset() -> None:
    """Ask the store again from the next request on (tests start every case with a reachable store)."""
    global _store_down_until
    _store_down_until = 0.0


def store_paused() -> bool:
    """Whether the store failed less than STORE_RETRY_AFTER_SECONDS ago: every user of it leaves it alone till then."""
    return time.monotonic() < _store_down_until


def store_pause() -> None:
    """Record a failure of the store (unreachable, or silent past its timeouts)."""
    global _store_down_until
    _store_down_until = time.monotonic() + STORE_RETRY_AFTER_SECONDS


def limiter() -> strategies.MovingWindowRateLimiter:
    return _limiter(settings.TRYON_RATE_LIMIT_STORAGE)


def rate_limit_hit(*, item: RateLimitItem, identifier: str) -> tuple[bool, float, int]:
    """Count one request: (allowed, reset time, remaining), what `limits`' `hit` then `get_window_stats` answer. On
    Redis both of its moving-window scripts go in one pipeline: one round trip per request instead of two (the
    poll's hot path). The scripts and their arguments are exactly those the two calls send."""
    rate_limiter = limiter()
    store = rate_limiter.storage
    if not isinstance(store, RedisStorage):
        allowed = rate_limiter.hit(item, identifier)
        stats = rate_limiter.get_window_stats(item, identifier)
        return allowed, stats.reset_time, stats.remaining
    key = store.prefixed_key(item.key_for(identifier))
    expiry = item.get_expiry()
    now = time.time()
    acquire_args, window_args = [now, item.amount, expiry, 1], [now - expiry, item.amount]
    # By their digests (EVALSHA), not as script objects: a pipeline of script objects first asks SCRIPT EXISTS, a
    # second round trip on every request.
    pipe = store.get_connection().pipeline(transaction=False)
    pipe.evalsha(store.lua_acquire_moving_window.sha, 1, key, *acquire_args)
    pipe.evalsha(store.lua_moving_window.sha, 1, key, *window_args)
    acquired, window = pipe.execute(raise_on_error=False)
    # A store that lost its scripts (restarted, flushed) refused them without counting anything: they are sent again
    # as script objects, which load them; the window is read again after a re-sent hit, so it includes it.
    if isinstance(acquired, NoScriptError):
        acquired = store.lua_acquire_moving_window([key], acquire_args)
        window = store.lua_moving_window([key], window_args)
    elif isinstance(window, NoScriptError):
        window = store.lua_moving_window([key], window_args)
    for answer in (acquired, window):
        if isinstance(answer, Exception):
            raise answer
    start, count = (float(window[0]), int(window[1])) if window else (now, 0)
    return bool(acquired), start + expiry, item.amount - count


class AccountRateThrottle(BaseThrottle):
    """Every authenticated request counts; a refused request does not consume the window."""

    def allow_request(self, request, view) -> bool:
        account = request.user
        if account is None:
            return True
        if store_paused():
            return True
        item = RateLimitItemPerMinute(account.rate_limit_per_minute)
        identifier = f"account:{account.pk}"
        try:
            allowed, reset_time, remaining = rate_limit_hit(item=item, identifier=identifier)
        except (RedisError, OSError) as exc:
            # The limit store is unreachable or silent: serve the request rather than take the whole API down with
            # it (fail open, logged); generations are still bounded by credits.
            logger.warning("rate-limit store unavailable, request not counted: %s", type(exc).__name__)
            store_pause()
            return True
        reset_in = max(1, math.ceil(reset_time - time.time()))
        self._wait = reset_in
        # Read by the middleware that writes the X-RateLimit-* headers on the final response.
        request._request.tryon_rate_limit = (item.amount, max(0, remaining), reset_in)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", 60)
