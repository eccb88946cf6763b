"""Which engine runs a generation: a name-to-class registry, imported lazily, one instance per process.

Engines stay framework-free; this module is the one place that reads Django settings (``TRYON_ENGINE``, the
default). An account's override is the caller passing ``name=account.engine or None``.
"""

from __future__ import annotations

import importlib
import threading

from generations.engines.base import EngineError, EngineErrorCode, TryOnEngine

DEFAULT_ENGINE = "local"

# Dotted paths, so that asking for "mock" never imports MediaPipe and a hosted SDK is loaded only when used.
_ENGINES: dict[str, str] = {
    "local": "generations.engines.local.LocalEngine",
    "mock": "generations.engines.mock.MockEngine",
    "gemini": "generations.engines.gemini.GeminiEngine",
    "vertex": "generations.engines.vertex.VertexEngine",
    "fashn": "generations.engines.fashn.FashnEngine",
}

_lock = threading.Lock()
_instances: dict[str, TryOnEngine] = {}


def _engine_paths() -> dict[str, str]:
    """The built-in engines plus those an operator plugs in with TRYON_EXTRA_ENGINES (name → dotted path)."""
    from django.conf import settings

    extra = getattr(settings, "TRYON_EXTRA_ENGINES", {}) if settings.configured else {}
    return {**_ENGINES, **extra}


def engine_names() -> list[str]:
    return list(_engine_paths())


def _default_name() -> str:
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_ENGINE
    return getattr(settings, "TRYON_ENGINE", "") or DEFAULT_ENGINE


def engine_get(*, name: str | None = None) -> TryOnEngine:
    """The engine called `name` (the configured default when None), created on first use and then shared."""
    name = name or _default_name()
    path = _engine_paths().get(name)
    if path is None:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Unknown engine {name!r}.", retryable=False)
    with _lock:
        engine = _instances.get(name)
        if engine is None:
            module_name, _, class_name = path.rpartition(".")
            try:
                engine_class = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError) as exc:
                raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Engine {name!r} is not available: {exc}",
                                  retryable=False) from exc
            engine = engine_class()
            _instances[name] = engine
        return engine


def engine_reset() -> None:
    """Forget the shared instances (tests that change settings an engine reads at construction)."""
    with _lock:
        _instances.clear()
