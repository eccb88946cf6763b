"""Per-account rate limit: a rolling 60 s window, atomic in Redis (the `limits` library's moving window runs
as one Lua script), in-process memory in embedded mode."""

from __future__ import annotations

import functools
import logging
import math
import time

from django.conf import settings
from limits import RateLimitItemPerMinute, storage, strategies
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("tryon.api")


@functools.cache
def _limiter(uri: str) -> strategies.MovingWindowRateLimiter:
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))


def limiter() -> strategies.MovingWindowRateLimiter:
    return _limiter(settings.TRYON_RATE_LIMIT_STORAGE)


class AccountRateThrottle(BaseThrottle):
    """Every authenticated request counts; a refused request does not consume the window."""

    def allow_request(self, request, view) -> bool:
        account = request.user
        if account is None:
            return True
        item = RateLimitItemPerMinute(account.rate_limit_per_minute)
        identifier = f"account:{account.pk}"
        try:
            allowed = limiter().hit(item, identifier)
            stats = limiter().get_window_stats(item, identifier)
        except RedisError as exc:
            # The limit store is unreachable: serve the request rather than take the whole API down with it
            # (fail open, logged); generations are still bounded by credits.
            logger.warning("rate-limit store unavailable, request not counted: %s", type(exc).__name__)
            return True
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        self._wait = reset_in
        # Read by the middleware that writes the X-RateLimit-* headers on the final response.
        request._request.tryon_rate_limit = (item.amount, max(0, stats.remaining), reset_in)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", 60)
