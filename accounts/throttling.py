"""Per-account rate limit: a rolling 60 s window, atomic in Redis (the `limits` library's moving window runs
as one Lua script), in-process memory in embedded mode."""

from __future__ import annotations

import functools
import math
import time

from django.conf import settings
from limits import RateLimitItemPerMinute, storage, strategies
from rest_framework.throttling import BaseThrottle


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
        allowed = limiter().hit(item, identifier)
        stats = limiter().get_window_stats(item, identifier)
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        self._wait = reset_in
        # Read by the middleware that writes the X-RateLimit-* headers on the final response.
        request._request.tryon_rate_limit = (item.amount, max(0, stats.remaining), reset_in)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", 60)
