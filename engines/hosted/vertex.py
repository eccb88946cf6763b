"""Vertex AI Virtual Try-On as a try-on engine, through ``google-genai`` (``models.recontext_image``).

Authentication is either Application Default Credentials (a service account via
``GOOGLE_APPLICATION_CREDENTIALS``, or the runtime's attached service account) with ``TRYON_VERTEX_PROJECT`` and
``TRYON_VERTEX_LOCATION``, or a Vertex AI express-mode API key in ``TRYON_VERTEX_API_KEY``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from google import genai
from google.genai import types

from engines.base import EngineError, EngineErrorCode, TryOnRequest, TryOnResult
from engines.hosted.common import DEFAULT_TIMEOUT_SECONDS, inspect_image
from engines.hosted.google import GOOGLE_EXCEPTIONS, http_options, map_google_exception

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "virtual-try-on-preview-08-04"
DEFAULT_LOCATION = "us-central1"


@dataclass(frozen=True)
class VertexConfig:
    project: str = ""
    location: str = DEFAULT_LOCATION
    api_key: str = ""
    model: str = DEFAULT_MODEL
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    base_url: str = ""


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
        # No seed: the API only accepts one with the SynthID watermark turned off, and the watermark stays on.
        recontext_config = types.RecontextImageConfig(number_of_images=1)
        remote_started = time.monotonic()
        try:
            with _client(config) as client:
                response = client.models.recontext_image(model=config.model, source=source, config=recontext_config)
        except GOOGLE_EXCEPTIONS as exc:
            raise map_google_exception(exc, provider="Vertex AI") from exc
        remote_ms = (time.monotonic() - remote_started) * 1000

        image, mime_type = _extract_image(response)
        logger.info("vertex try-on done", extra={"remote_ms": round(remote_ms)})
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=config.model,
            timings_ms={"remote": remote_ms, "total": (time.monotonic() - started) * 1000},
            diagnostics={
                "model": config.model,
                "location": config.location if config.project else "global",
                "auth": "adc" if config.project else "api_key",
                "garment_images_sent": 1,
            },
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
