"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger("tryon.health")


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    import redis

    # The same timeouts as every other Redis client: a silent Redis reports "down" within them, never hangs.
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_storage() -> None:
    name = default_storage.save(f"healthcheck/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


def readyz(request):
    checks = {"database": _check_database, "storage": _check_storage}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "down", never raises
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = "down"
    ready = all(v == "ok" for v in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
