"""Vertex AI Virtual Try-On as a try-on engine, through ``google-genai`` (``models.recontext_image``).

Authentication is either Application Default Credentials (a service account via
``GOOGLE_APPLICATION_CREDENTIALS``, or the runtime's attached service account) with ``TRYON_VERTEX_PROJECT`` and
``TRYON_VERTEX_LOCATION``, or a Vertex AI express-mode API key in ``TRYON_VERTEX_API_KEY``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, cast

from google import genai
from google.genai import types

from engines.base import EngineError, EngineErrorCode, Quality, TryOnRequest, TryOnResult
from engines.hosted.common import DEFAULT_TIMEOUT_SECONDS, inspect_image
from engines.hosted.google import GOOGLE_EXCEPTIONS, http_options, map_google_exception

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "virtual-try-on-001"
DEFAULT_LOCATION = "us-central1"
MODEL_SETTING = "TRYON_VERTEX_MODEL"
# The model's documented values (its API takes them in lower case).
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
SAFETY_SETTINGS = ("block_low_and_above", "block_medium_and_above", "block_only_high", "block_none")
OUTPUT_MIME_TYPES = ("image/png", "image/jpeg")
# Per-call quality as denoising steps; balanced leaves the model's own default.
_BASE_STEPS = {Quality.FAST: 16, Quality.BALANCED: None, Quality.QUALITY: 48}


@dataclass(frozen=True)
class VertexConfig:
    project: str = ""
    location: str = DEFAULT_LOCATION
    api_key: str = field(default="", repr=False)  # a secret: kept out of reprs and logs
    model: str = DEFAULT_MODEL
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    base_url: str = ""
    # "allow_all" lets the model render minors: a children's clothing shop needs it.
    person_generation: str = "allow_adult"
    safety_setting: str = "block_medium_and_above"
    # More samples cost more but give a fallback when the safety filter drops one; the first image is used.
    sample_count: int = 1
    # None: the quality option (or the model's default) decides.
    base_steps: int | None = None
    output_mime_type: str = "image/jpeg"
    output_compression_quality: int = 90


def _client(config: VertexConfig) -> genai.Client:
    options = http_options(base_url=config.base_url, timeout_seconds=config.timeout_seconds)
    if config.project:
        # A project wins over an API key: the SDK refuses both at once, and IAM credentials are the stronger setup.
        return genai.Client(vertexai=True, project=config.project, location=config.location, http_options=options)
    return genai.Client(vertexai=True, api_key=config.api_key, http_options=options)


class VertexEngine:
    """Google's dedicated virtual try-on model: one person photo and one product photo in, one image out."""

    name = "vertex"

    def __init__(self, config: VertexConfig | None = None) -> None:
        self.config = config or VertexConfig()

    @property
    def version(self) -> str:
        return self.config.model

    def run(self, request: TryOnRequest) -> TryOnResult:
        config = self.config
        if not config.project and not config.api_key:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR,
                "The Vertex AI engine is not configured (TRYON_VERTEX_PROJECT or TRYON_VERTEX_API_KEY).",
            )
        if not request.garment_images:
            raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "The product has no image to try on.")
        started = time.monotonic()
        person_mime, _ = inspect_image(request.person_image, code=EngineErrorCode.CUSTOMER_IMAGE_INVALID)
        # The model takes exactly one product image; the first one is the product's main photo.
        garment = request.garment_images[0]
        garment_mime, _ = inspect_image(garment, code=EngineErrorCode.PRODUCT_IMAGE_INVALID)
        source = types.RecontextImageSource(
            person_image=types.Image(image_bytes=request.person_image, mime_type=person_mime),
            product_images=[types.ProductImage(product_image=types.Image(image_bytes=garment, mime_type=garment_mime))],
        )
        seed = request.options.seed
        base_steps = config.base_steps if config.base_steps is not None else _BASE_STEPS[request.options.quality]
        recontext_config = types.RecontextImageConfig(
            number_of_images=config.sample_count,
            base_steps=base_steps,
            seed=seed,
            # The API accepts a seed only with the SynthID watermark off; without a seed the watermark stays on.
            add_watermark=False if seed is not None else None,
            # The SDK's model takes its enums' string values (validated by the API, reported as a terminal error).
            person_generation=cast(Any, config.person_generation),
            safety_filter_level=cast(Any, config.safety_setting),
            output_mime_type=config.output_mime_type,
            output_compression_quality=(
                config.output_compression_quality if config.output_mime_type == "image/jpeg" else None
            ),
        )
        remote_started = time.monotonic()
        try:
            with _client(config) as client:
                response = client.models.recontext_image(model=config.model, source=source, config=recontext_config)
        except GOOGLE_EXCEPTIONS as exc:
            raise map_google_exception(exc, provider="Vertex AI", model_setting=MODEL_SETTING) from exc
        remote_ms = (time.monotonic() - remote_started) * 1000

        image, mime_type = _extract_image(response)
        logger.info("vertex try-on done", extra={"remote_ms": round(remote_ms)})
        diagnostics: dict[str, object] = {
            "model": config.model,
            "location": config.location if config.project else "global",
            "auth": "adc" if config.project else "api_key",
            "garment_images_sent": 1,
            "base_steps": base_steps,
            "seed": seed,
            "person_generation": config.person_generation,
        }
        # The model takes no hint about the kind of product photo.
        ignored = sorted(request.options.requested & {"garmentPhotoType"})
        if ignored:
            diagnostics["ignored_options"] = ignored
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=config.model,
            timings_ms={"remote": remote_ms, "total": (time.monotonic() - started) * 1000},
            diagnostics=diagnostics,
        )


def _extract_image(response: types.RecontextImageResponse) -> tuple[bytes, str]:
    generated = response.generated_images or []
    for item in generated:
        if item.image is not None and item.image.image_bytes:
            data = item.image.image_bytes
            mime_type = item.image.mime_type or inspect_image(data, code=EngineErrorCode.ENGINE_ERROR)[0]
            return data, mime_type
    reasons = sorted({item.rai_filtered_reason for item in generated if item.rai_filtered_reason})
    if reasons:
        raise EngineError(EngineErrorCode.CONTENT_REJECTED, f"Vertex AI filtered the result: {' '.join(reasons)}")
    # Imagen-family models answer with no predictions at all when every output was filtered by safety checks.
    raise EngineError(EngineErrorCode.CONTENT_REJECTED, "Vertex AI returned no image (filtered by its safety checks).")
