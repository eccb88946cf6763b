"""The engine interface: plain dataclasses in, image bytes out. Engines know nothing of models or storage."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Category(enum.StrEnum):
    TOPS = "tops"
    BOTTOMS = "bottoms"
    DRESSES = "dresses"
    OUTERWEAR = "outerwear"
    AUTO = "auto"


class Quality(enum.StrEnum):
    """Speed against fidelity; each engine maps it onto its own knob (FASHN mode, Vertex steps, Cog steps)."""

    FAST = "fast"
    BALANCED = "balanced"
    QUALITY = "quality"


class GarmentPhotoType(enum.StrEnum):
    AUTO = "auto"
    FLAT_LAY = "flat-lay"
    MODEL = "model"


@dataclass(frozen=True)
class EngineOptions:
    seed: int | None = None
    # Output size (width, height); None keeps the person image's size.
    output_size: tuple[int, int] | None = None
    quality: Quality = Quality.BALANCED
    garment_photo_type: GarmentPhotoType = GarmentPhotoType.AUTO
    # Which options the caller set explicitly: an engine that cannot honour one of these says so in diagnostics.
    requested: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TryOnRequest:
    person_image: bytes
    garment_images: tuple[bytes, ...]
    title: str = ""
    description: str = ""
    category: Category = Category.AUTO
    options: EngineOptions = field(default_factory=EngineOptions)
    # A provider job an earlier attempt submitted: an engine that can resume polls it instead of submitting again.
    resume_job_id: str = ""
    # Called with the provider's job id as soon as a job exists, so the caller can persist it before waiting.
    on_job_submitted: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


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
    PERSON_POSE_UNSUPPORTED = "PERSON_POSE_UNSUPPORTED"
    PRODUCT_PHOTO_UNSUPPORTED = "PRODUCT_PHOTO_UNSUPPORTED"
    ENGINE_QUOTA_EXCEEDED = "ENGINE_QUOTA_EXCEEDED"
    GENERATION_TIMEOUT = "GENERATION_TIMEOUT"


class EngineError(Exception):
    """A failure with a code from the API's catalogue. `retry_after` (seconds) is the provider's own word on when
    to try again (Retry-After, RetryInfo); the task queue uses it instead of its fixed backoff."""

    def __init__(
        self,
        code: EngineErrorCode,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"EngineError({self.code!s}, {self.message!r}, retryable={self.retryable}, retry_after={self.retry_after})"
        )


class TryOnEngine(Protocol):
    name: str
    version: str

    def run(self, request: TryOnRequest) -> TryOnResult: ...
