"""Which engine runs a generation: a name-to-class registry, imported lazily, one instance per name and process.

Framework-free: the registry is given its engine paths, its default name and a function that builds each
engine's typed config. The server's instance is built from settings in ``generations/engine_config.py``; an
operator's own engines (``TRYON_EXTRA_ENGINES``, name → dotted path) are loaded through the same registry.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Iterator, Mapping

from engines.base import EngineError, EngineErrorCode, TryOnEngine

DEFAULT_ENGINE = "local"

# Dotted paths, so that asking for "mock" never imports MediaPipe and a hosted SDK is loaded only when used.
BUILTIN_ENGINES: dict[str, str] = {
    "local": "engines.local.LocalEngine",
    "mock": "engines.mock.MockEngine",
    "gemini": "engines.hosted.gemini.GeminiEngine",
    "vertex": "engines.hosted.vertex.VertexEngine",
    "fashn": "engines.hosted.fashn.FashnEngine",
    "cog": "engines.hosted.cog.CogEngine",
    "replicate": "engines.hosted.replicate.ReplicateEngine",
}

ConfigFactory = Callable[[str], object | None]


def _no_config(name: str) -> object | None:
    return None


def engine_class_load(*, path: str) -> type:
    """The class a dotted path names; an ImportError or a missing attribute becomes a terminal EngineError."""
    module_name, _, class_name = path.rpartition(".")
    try:
        engine_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Engine {path!r} is not available: {exc}") from exc
    if not isinstance(engine_class, type):
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Engine {path!r} is not a class.")
    return engine_class


class EngineRegistry:
    """Engines by name. An engine whose config factory returns an object is built as ``cls(config)``; one it
    returns None for (mock, operator engines without a config) as ``cls()``."""

    def __init__(
        self,
        *,
        extra: Mapping[str, str] | None = None,
        default: str = DEFAULT_ENGINE,
        config_for: ConfigFactory = _no_config,
    ) -> None:
        self._lock = threading.Lock()
        self._instances: dict[str, TryOnEngine] = {}
        self._overrides: dict[str, TryOnEngine] = {}
        self._config_for = config_for
        self._paths: dict[str, str] = {}
        self._default = DEFAULT_ENGINE
        self.reconfigure(extra=extra, default=default)

    def reconfigure(self, *, extra: Mapping[str, str] | None = None, default: str = DEFAULT_ENGINE) -> None:
        """New engine paths and default; built instances are dropped, overrides kept."""
        with self._lock:
            self._paths = {**BUILTIN_ENGINES, **(extra or {})}
            self._default = default or DEFAULT_ENGINE
            self._instances.clear()

    def names(self) -> list[str]:
        return list(self._paths)

    @property
    def default(self) -> str:
        return self._default

    def get(self, *, name: str | None = None) -> TryOnEngine:
        """The engine called `name` (the default when None or empty), created on first use and then shared."""
        name = name or self._default
        with self._lock:
            if name in self._overrides:
                return self._overrides[name]
            engine = self._instances.get(name)
            if engine is not None:
                return engine
            path = self._paths.get(name)
            if path is None:
                raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Unknown engine {name!r}.")
            engine_class = engine_class_load(path=path)
            config = self._config_for(name)
            engine = engine_class(config) if config is not None else engine_class()
            self._instances[name] = engine
            return engine

    @contextlib.contextmanager
    def override(self, *, name: str, engine: TryOnEngine) -> Iterator[TryOnEngine]:
        """Serve `engine` under `name` (every name when `name` is "*") inside the block: tests swap engines here."""
        names = self.names() if name == "*" else [name]
        with self._lock:
            previous = dict(self._overrides)
            self._overrides.update(dict.fromkeys(names, engine))
        try:
            yield engine
        finally:
            with self._lock:
                self._overrides = previous

    def reset(self) -> None:
        """Forget the shared instances (after a settings change that an engine's config reads)."""
        with self._lock:
            self._instances.clear()
