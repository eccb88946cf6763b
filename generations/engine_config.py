"""The one place that reads engine settings: builds each engine's typed config and the server's registry.

Engines (``engines/``) know nothing of Django; this module turns ``TRYON_*`` settings into their config objects
and keeps one registry per process, rebuilt when a test changes a setting.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from engines.base import TryOnEngine
from engines.registry import EngineRegistry


def _fetch_output(url: str) -> bytes:
    """A hosted engine's result URL, downloaded through the one safe fetcher."""
    from engines.hosted.fashn import OutputFetchError
    from tryon_project.http_fetch import FetchError, url_fetch

    try:
        return url_fetch(url=url).content
    except FetchError as exc:
        retryable = exc.reason in ("timeout", "connection") or (exc.status or 0) >= 500
        raise OutputFetchError(str(exc), retryable=retryable) from exc


def engine_config_build(name: str) -> object | None:
    """The typed config of engine `name` from settings, or None for engines that take none."""
    timeout = float(settings.TRYON_HOSTED_TIMEOUT_SECONDS)
    if name == "gemini":
        from engines.hosted.gemini import GeminiConfig

        return GeminiConfig(
            api_key=settings.TRYON_GEMINI_API_KEY.strip(),
            model=settings.TRYON_GEMINI_MODEL or GeminiConfig.model,
            timeout_seconds=timeout,
            base_url=settings.TRYON_GEMINI_BASE_URL,
        )
    if name == "vertex":
        from engines.hosted.vertex import VertexConfig

        return VertexConfig(
            project=settings.TRYON_VERTEX_PROJECT.strip(),
            location=settings.TRYON_VERTEX_LOCATION.strip() or VertexConfig.location,
            api_key=settings.TRYON_VERTEX_API_KEY.strip(),
            model=settings.TRYON_VERTEX_MODEL or VertexConfig.model,
            timeout_seconds=timeout,
            base_url=settings.TRYON_VERTEX_BASE_URL,
        )
    if name == "fashn":
        from engines.hosted.fashn import FashnConfig

        return FashnConfig(
            api_key=settings.TRYON_FASHN_API_KEY.strip(),
            base_url=(settings.TRYON_FASHN_BASE_URL or FashnConfig.base_url).rstrip("/"),
            model=settings.TRYON_FASHN_MODEL or FashnConfig.model,
            mode=settings.TRYON_FASHN_MODE or FashnConfig.mode,
            timeout_seconds=timeout,
            fetch_output=_fetch_output,
        )
    return None


_lock = threading.Lock()
_registry: EngineRegistry | None = None


def engine_registry() -> EngineRegistry:
    """The process's registry, built from settings on first use."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = EngineRegistry(
                extra=settings.TRYON_EXTRA_ENGINES,
                default=settings.TRYON_ENGINE,
                config_for=engine_config_build,
            )
        return _registry


def engine_get(*, name: str | None = None) -> TryOnEngine:
    """The engine called `name`, or the configured default (an account's override is passed as `name`)."""
    return engine_registry().get(name=name)


def engine_names() -> list[str]:
    return engine_registry().names()


def engine_registry_reset() -> None:
    """Re-read the engine settings: built engines are dropped (their configs may have changed), overrides kept."""
    engine_registry().reconfigure(extra=settings.TRYON_EXTRA_ENGINES, default=settings.TRYON_ENGINE)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("TRYON_"):
        engine_registry_reset()
