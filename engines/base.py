"""The engine interface: plain dataclasses in, image bytes out. Engines know nothing of models or storage."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class Category(enum.StrEnum):
    TOPS = "tops"
    BOTTOMS = "bottoms"
    DRESSES = "dresses"
    OUTERWEAR = "outerwear"
    AUTO = "auto"


@dataclass(frozen=True)
class EngineOptions:
    seed: int | None = None
    # Output size (width, height); None keeps the person image's size.
    output_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class TryOnRequest:
    person_image: bytes
    garment_images: tuple[bytes, ...]
    title: str = ""
    description: str = ""
    category: Category = Category.AUTO
    options: EngineOptions = field(default_factory=EngineOptions)


@dataclass(frozen=True)
class TryOnResult:
    image: bytes
    content_type: str
    engine: str
    engine_version: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, object] = field(default_factory=dict)


class EngineErrorCode(enum.StrEnum):
    """The subset of the API's asynchronous failure codes an engine may raise."""

    PERSON_NOT_DETECTED = "PERSON_NOT_DETECTED"
    UNSUPPORTED_PRODUCT = "UNSUPPORTED_PRODUCT"
    PRODUCT_IMAGE_INVALID = "PRODUCT_IMAGE_INVALID"
    CUSTOMER_IMAGE_INVALID = "CUSTOMER_IMAGE_INVALID"
    CONTENT_REJECTED = "CONTENT_REJECTED"
    ENGINE_ERROR = "ENGINE_ERROR"
    GENERATION_TIMEOUT = "GENERATION_TIMEOUT"


class EngineError(Exception):
    def __init__(self, code: EngineErrorCode, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"EngineError({self.code!s}, {self.message!r}, retryable={self.retryable})"


class TryOnEngine(Protocol):
    name: str
    version: str

    def run(self, request: TryOnRequest) -> TryOnResult: ...
