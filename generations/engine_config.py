"""The one place that reads engine settings: builds each engine's typed config and the server's registry.

Engines (``engines/``) know nothing of Django; this module turns ``TRYON_*`` settings into their config objects
and keeps one registry per process, rebuilt when a test changes a setting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from engines.base import EngineError, TryOnEngine
from engines.registry import EngineRegistry


def _fetch_output(url: str) -> bytes:
    """A hosted engine's result URL, downloaded through the one safe fetcher."""
    from engines.hosted.common import OutputFetchError
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
            person_generation=settings.TRYON_VERTEX_PERSON_GENERATION or VertexConfig.person_generation,
            safety_setting=settings.TRYON_VERTEX_SAFETY_SETTING or VertexConfig.safety_setting,
            sample_count=settings.TRYON_VERTEX_SAMPLE_COUNT,
            base_steps=settings.TRYON_VERTEX_BASE_STEPS,
            output_mime_type=settings.TRYON_VERTEX_OUTPUT_MIME_TYPE or VertexConfig.output_mime_type,
            output_compression_quality=settings.TRYON_VERTEX_OUTPUT_QUALITY,
        )
    if name == "fashn":
        from engines.hosted.fashn import FashnConfig

        return FashnConfig(
            api_key=settings.TRYON_FASHN_API_KEY.strip(),
            base_url=(settings.TRYON_FASHN_BASE_URL or FashnConfig.base_url).rstrip("/"),
            model=settings.TRYON_FASHN_MODEL or FashnConfig.model,
            mode=settings.TRYON_FASHN_MODE or FashnConfig.mode,
            timeout_seconds=timeout,
            moderation_level=settings.TRYON_FASHN_MODERATION_LEVEL,
            segmentation_free=settings.TRYON_FASHN_SEGMENTATION_FREE,
            resolution=settings.TRYON_FASHN_RESOLUTION or FashnConfig.resolution,
            fetch_output=_fetch_output,
        )
    if name == "cog":
        from engines.hosted.cog import CogConfig

        return CogConfig(
            url=settings.TRYON_COG_URL.strip(),
            preset=settings.TRYON_COG_PRESET or CogConfig.preset,
            custom_preset_json=settings.TRYON_COG_PRESET_JSON,
            auth_token=settings.TRYON_COG_AUTH_TOKEN.strip(),
            timeout_seconds=timeout,
            fetch_output=_fetch_output,
        )
    if name == "replicate":
        from engines.hosted.replicate import ReplicateConfig

        return ReplicateConfig(
            api_token=settings.TRYON_REPLICATE_API_TOKEN.strip(),
            base_url=(settings.TRYON_REPLICATE_BASE_URL or ReplicateConfig.base_url).rstrip("/"),
            model=settings.TRYON_REPLICATE_MODEL or ReplicateConfig.model,
            version=settings.TRYON_REPLICATE_VERSION.strip(),
            preset=settings.TRYON_REPLICATE_PRESET or ReplicateConfig.preset,
            custom_preset_json=settings.TRYON_COG_PRESET_JSON,
            wait_seconds=settings.TRYON_REPLICATE_WAIT_SECONDS,
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


@dataclass(frozen=True)
class EngineDescription:
    """What the operator view shows about an engine: its model id and the licence that governs its use."""

    name: str
    model_id: str
    licence: str


# Hosted APIs are governed by each provider's terms; open models by their own licence (their preset says it).
_SERVICE_TERMS = {
    "gemini": "Google Gemini API terms",
    "vertex": "Google Cloud terms (Vertex AI)",
    "fashn": "FASHN API terms",
}


def engine_describe(*, name: str | None) -> EngineDescription:
    """The model id and licence of engine `name` (the default when empty), from settings; never raises for an
    engine that is misconfigured, so the dashboard can still show it."""
    name = name or settings.TRYON_ENGINE
    if name in ("cog", "replicate"):
        from engines.hosted.presets import preset_get

        config = engine_config_build(name)
        try:
            preset = preset_get(name=config.preset, custom_json=config.custom_preset_json)
            licence = f"{preset.label}: {preset.licence}"
        except EngineError as exc:
            licence = exc.message
        model_id = f"{config.url} ({config.preset})" if name == "cog" else (config.version or config.model)
        return EngineDescription(name=name, model_id=model_id, licence=licence)
    config = engine_config_build(name)
    if name in _SERVICE_TERMS:
        return EngineDescription(name=name, model_id=config.model, licence=_SERVICE_TERMS[name])
    if name in ("local", "mock"):
        return EngineDescription(name=name, model_id=name, licence="bundled with this server")
    return EngineDescription(name=name, model_id=settings.TRYON_EXTRA_ENGINES.get(name, ""), licence="operator's own")
