"""What every hosted adapter shares: the per-request time limit, reading an image header, short error text,
``Retry-After`` and output images given as data URLs or URLs."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from engines.base import EngineError, EngineErrorCode

# Per-request limit for hosted engines; the task's soft time limit is kept above it so a retry is possible.
DEFAULT_TIMEOUT_SECONDS = 60.0


def inspect_image(data: bytes, *, code: EngineErrorCode) -> tuple[str, tuple[int, int]]:
    """MIME type and size read from the image header (no full decode); raises EngineError(code) if unreadable."""
    try:
        with Image.open(BytesIO(data)) as image:
            # Pillow names JPEGs with an embedded second picture (common from phones) "MPO"; on the wire it is JPEG.
            image_format = "JPEG" if image.format == "MPO" else image.format or ""
            mime_type = Image.MIME.get(image_format, "")
            size = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise EngineError(code, "The image could not be read.") from exc
    if not mime_type:
        raise EngineError(code, "The image format is not supported.")
    return mime_type, size


def data_url(data: bytes, *, code: EngineErrorCode) -> str:
    """The image as a ``data:`` URL, its type read from the bytes (never from a declared type)."""
    mime_type, _ = inspect_image(data, code=code)
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def short(text: str, limit: int = 300) -> str:
    """One line of at most `limit` characters: provider messages go into generation errors and logs."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class OutputFetchError(Exception):
    """Raised by a config's `fetch_output` when a result URL cannot be downloaded."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def no_download(url: str) -> bytes:
    raise OutputFetchError("no downloader is configured for URL outputs", retryable=False)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """An HTTP ``Retry-After`` value (delta-seconds or an HTTP date) in seconds from now; None when absent/invalid."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = now if now is not None else time.time()
    return max(when.timestamp() - current, 0.0)


def output_image(value: object, *, fetch: Callable[[str], bytes], provider: str) -> tuple[bytes, str]:
    """A model's output image, given as a ``data:`` URL or an http(s) URL (downloaded by `fetch`), with its type
    read from the bytes. A list output (several samples) yields its first image."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        # Some models return {"image": url} or similar; take the first string that is a URL.
        value = next((v for v in value.values() if isinstance(v, str) and ("://" in v or v.startswith("data:"))), None)
    if not isinstance(value, str) or not value:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} finished without an output image.", retryable=True)
    if value.startswith("data:"):
        header, _, encoded = value.partition(",")
        if ";base64" not in header:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} returned a malformed image.", retryable=True)
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, f"{provider} returned a malformed image.", retryable=True
            ) from exc
    elif value.startswith(("https://", "http://")):
        try:
            data = fetch(value)
        except OutputFetchError as exc:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR,
                f"The {provider} result could not be downloaded: {exc}",
                retryable=exc.retryable,
            ) from exc
    else:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} returned an output that is not an image URL.")
    # The declared type is not trusted: the bytes decide, as everywhere else in the server.
    mime_type, _ = inspect_image(data, code=EngineErrorCode.ENGINE_ERROR)
    return data, mime_type
