"""The one path every image takes into the system (docs/security.md, docs/api.md "POST /images/upload").

Customer uploads, product images and watermark logos all go through :func:`image_normalize`. The format is
decided by the bytes; the pixel count and the side lengths are checked from the header before any pixel memory
is allocated; the image is decoded in full (a truncated file is an error), turned upright, converted to sRGB,
optionally cropped, capped, and re-encoded from its pixels alone. Nothing of the original file survives that
re-encoding: no EXIF, GPS, XMP, ICC profile or comment, and nothing appended to it (polyglot payloads).

Every refusal is an :class:`ImageRejected` carrying its code from the one catalogue: ``INVALID_IMAGE``, or
``PAYLOAD_TOO_LARGE`` for the file size and for a request over its pixel budget. It is not an HTTP error: the API's
exception handler turns it into the error body in one place, and callers outside a request (the worker, the
dashboard) map it to their own outcome.

Decoding work is bounded twice (docs/security.md, "Decoding work"). Per request: inside
:func:`request_pixel_budget` (the API middleware opens one per request) every image decoded while serving it is
charged its decoded pixels, and the one that would pass ``TRYON_MAX_REQUEST_PIXELS`` is refused before it is
decoded. A small file can declare a large canvas (a 120 KB PNG of 6000x6000 decodes to 144 MB), so the budget
counts pixels, not bytes, across every part and URL of the request. Per process: at most
``TRYON_IMAGE_DECODE_PIXELS`` pixels are held by decodes at once; a decode that cannot get its share within
``TRYON_IMAGE_DECODE_WAIT_SECONDS`` raises :class:`ImageDecodeBusy` (``503`` with ``Retry-After``), which is not a
refusal of the bytes, so no caller maps it to an invalid image.
"""

from __future__ import annotations

import contextvars
import io
import math
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from django.conf import settings
from PIL import Image, ImageCms, ImageFile

from tryon_project.api.errors import ErrorCode

# Receives the upright, fully decoded image (mode RGB, RGBA, L, LA or CMYK) and returns the
# (left, top, right, bottom) box to keep, in that image's pixels.
CropBox = Callable[[Image.Image], tuple[int, int, int, int]]

# Pillow allocates an image as a chain of blocks, 16 MB each by default. glibc serves a request that size from its
# heap arenas once a freed block has raised its adaptive mmap threshold (at most 32 MB), and a process decoding in
# several threads then keeps the freed blocks of a large upload resident: 24 worst-case uploads peaked anywhere
# from 0.9 to 1.5 GB. Blocks of 64 MB are always mapped on their own and go back to the system when freed; images
# smaller than a block take one allocation of their own size, as before.
_PILLOW_BLOCK_SIZE = 64 * 2**20
Image.core.set_block_size(_PILLOW_BLOCK_SIZE)

# Pillow plugin ids. Restricting `Image.open` to these means no other decoder (GIF, BMP, TIFF, ICO, PDF, EPS…)
# ever parses attacker bytes.
_ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# Pillow reports a JPEG with extra frames (common from phone cameras) as "MPO"; to callers it is a JPEG.
_FORMAT_ALIASES = {"MPO": "JPEG"}

# What decoders raise on hostile bytes: Pillow's plugins use OSError (UnidentifiedImageError), SyntaxError and
# ValueError, and some truncations surface as struct/zlib/Index/EOF errors; pillow-heif wraps libheif failures in
# ValueError/RuntimeError. Pillow's own bomb guard raises DecompressionBombError. Warnings (a damaged EXIF block,
# DecompressionBombWarning) arrive as exceptions when a deployment or the test suite turns warnings into errors.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
    RuntimeError,
    Image.DecompressionBombError,
    Warning,
)
_CMS_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)

_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

JPEG_QUALITY = 90
# Resizing starts with an integer reduce() once the image is 3 times the target; Pillow documents the result as
# indistinguishable from a plain Lanczos resize in most cases, at a fraction of the cost. The same margin bounds
# JPEG draft decoding, so the final Lanczos pass always starts from at least 3 times the pixels it keeps.
_REDUCING_GAP = 3.0
_WHITE = (255, 255, 255)

# Thumbnails, depth maps and auxiliary images are never used; not parsing them keeps the HEIF surface small.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
# A process-wide Pillow switch: with it on, a truncated file would decode as a partly grey image. Nothing in this
# project may turn it on.
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageRejected(Exception):
    """Bytes the image path refuses. `code` is INVALID_IMAGE or PAYLOAD_TOO_LARGE; `message` is safe to show."""

    def __init__(self, *, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImageDecodeBusy(Exception):
    """This process is already decoding as many pixels as it allows and none were freed in time. The bytes were not
    judged: the same request succeeds when retried after ``retry_after_seconds``."""

    def __init__(self, *, retry_after_seconds: int) -> None:
        super().__init__("The server is decoding as many images as it can at once; retry shortly.")
        self.message = str(self)
        self.retry_after_seconds = retry_after_seconds


@dataclass
class PixelBudget:
    """Pixels one request may still decode. Locked: a request that decodes on several threads (context copied into
    them) charges one budget."""

    limit: int
    spent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def charge(self, *, pixels: int) -> None:
        with self._lock:
            if self.spent + pixels > self.limit:
                message = (
                    f"The images of this request decode to more than {self.limit} pixels together; "
                    "send fewer or smaller images."
                )
                raise ImageRejected(code=ErrorCode.PAYLOAD_TOO_LARGE, message=message)
            self.spent += pixels


# The budget of the request being served. A context variable rather than a parameter: every image decoded while
# serving the request counts (its parts, its customer and product URLs), whichever code path reaches this module.
_request_budget: contextvars.ContextVar[PixelBudget | None] = contextvars.ContextVar(
    "request_pixel_budget", default=None
)


@contextmanager
def request_pixel_budget(*, limit: int) -> Iterator[PixelBudget]:
    """Charge every decode inside the block to one budget of ``limit`` pixels."""
    budget = PixelBudget(limit=limit)
    token = _request_budget.set(budget)
    try:
        yield budget
    finally:
        _request_budget.reset(token)


class _DecodeCapacity:
    """Pixels held by decodes in this process: a semaphore weighted by pixels, so two images at the pixel limit or
    many small ones decode at once, and a small photo still finds room while large ones are being decoded."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        with self._changed:
            return self._in_use

    @contextmanager
    def hold(self, *, pixels: int, capacity: int, wait_seconds: float) -> Iterator[None]:
        # An image larger than the whole capacity still decodes, alone.
        weight = min(pixels, capacity)
        deadline = time.monotonic() + wait_seconds
        with self._changed:
            while self._in_use + weight > capacity:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ImageDecodeBusy(retry_after_seconds=_BUSY_RETRY_AFTER_SECONDS)
                self._changed.wait(remaining)
            self._in_use += weight
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= weight
                self._changed.notify_all()


_BUSY_RETRY_AFTER_SECONDS = 2
_decode_capacity = _DecodeCapacity()


@contextmanager
def image_decode_slot(*, pixels: int) -> Iterator[None]:
    """Hold ``pixels`` of this process's decoding capacity for the block (``TRYON_IMAGE_DECODE_PIXELS``), waiting
    at most ``TRYON_IMAGE_DECODE_WAIT_SECONDS``; :class:`ImageDecodeBusy` when none is freed in time."""
    with _decode_capacity.hold(
        pixels=pixels,
        capacity=settings.TRYON_IMAGE_DECODE_PIXELS,
        wait_seconds=settings.TRYON_IMAGE_DECODE_WAIT_SECONDS,
    ):
        yield


def image_decode_pixels_in_use() -> int:
    """Pixels currently held by decodes in this process (for tests and diagnostics)."""
    return _decode_capacity.in_use


@dataclass(frozen=True)
class NormalizedImage:
    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    format: str  # the detected input format: JPEG, PNG, WEBP or HEIF


def check_file_size(*, size: int) -> None:
    """Refuse a file over ``TRYON_MAX_FILE_BYTES`` before anything reads it."""
    limit = settings.TRYON_MAX_FILE_BYTES
    if size > limit:
        message = f"The file is {size} bytes; the limit is {limit} bytes."
        raise ImageRejected(code=ErrorCode.PAYLOAD_TOO_LARGE, message=message)


def image_normalize(
    *,
    data: bytes,
    max_long_side: int | None = None,
    keep_alpha: bool = False,
    crop_box: CropBox | None = None,
) -> NormalizedImage:
    """Validate ``data`` and return it as a clean sRGB image.

    The output is an RGB JPEG, or with ``keep_alpha`` (watermark logos) an RGBA PNG; transparency is otherwise
    flattened onto white. ``crop_box`` is applied to the upright image before the long side is capped to
    ``max_long_side`` (default ``TRYON_MAX_LONG_SIDE``).
    """
    check_file_size(size=len(data))
    long_side = settings.TRYON_MAX_LONG_SIDE if max_long_side is None else max_long_side
    im = _open(data=data)
    input_format = _FORMAT_ALIASES.get(im.format or "", im.format or "")
    if input_format == "JPEG":
        _draft(im, long_side=long_side, for_crop=crop_box is not None)
    # The size the decoder will allocate: a JPEG's draft scale is already applied to it, other formats decode in
    # full. Charged and reserved before a pixel is decoded.
    pixels = im.width * im.height
    budget = _request_budget.get()
    if budget is not None:
        budget.charge(pixels=pixels)
    with image_decode_slot(pixels=pixels):
        _load(im)
        if input_format == "JPEG":
            _refuse_zero_filled_jpeg(im, data=data, long_side=long_side, for_crop=crop_box is not None)
        # Read only after the full decode: asking a PNG for its EXIF earlier would trigger (and half-run) the decode.
        icc_profile = im.info.get("icc_profile")
        orientation = _orientation(im)
        # Each step rebinds `im`, so the full-size decode is freed as soon as the capped copy exists.
        im = _resizable(im)
        if crop_box is not None:
            im = _upright(im, orientation)
            im = _crop(im, crop_box)
            im = _cap(im, long_side=long_side)
        else:
            # Transposing the capped image rather than the full one gives the same pixels for a fraction of the cost.
            im = _cap(im, long_side=long_side)
            im = _upright(im, orientation)
        im = _to_srgb(im, icc_profile=icc_profile)
        if keep_alpha:
            im = im if im.mode == "RGBA" else im.convert("RGBA")
            return _encode(im, input_format=input_format, image_format="PNG")
        return _encode(_flatten(im), input_format=input_format, image_format="JPEG")


def _refuse(message: str) -> ImageRejected:
    return ImageRejected(code=ErrorCode.INVALID_IMAGE, message=message)


def _open(*, data: bytes) -> ImageFile.ImageFile:
    try:
        im = Image.open(io.BytesIO(data), formats=_ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse("The image has more pixels than the limit allows.") from exc
    except _DECODE_ERRORS as exc:
        raise _refuse("The file is not a JPEG, PNG, WebP or HEIC image.") from exc
    _check_dimensions(im.size)
    return im


def _check_dimensions(size: tuple[int, int]) -> None:
    width, height = size
    limit = settings.TRYON_MAX_IMAGE_PIXELS
    if width * height > limit:
        raise _refuse(f"The image is {width}x{height} pixels; the limit is {limit} pixels.")
    min_side = settings.TRYON_MIN_IMAGE_SIDE
    if min(width, height) < min_side:
        raise _refuse(f"The image is {width}x{height} pixels; each side must be at least {min_side} pixels.")


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        # A damaged EXIF block says nothing reliable about orientation; the pixels themselves are still checked by
        # the full decode, so the photo is kept as stored rather than refused.
        return 1
    return value if isinstance(value, int) else 1


def _draft(im: ImageFile.ImageFile, *, long_side: int, for_crop: bool) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is far larger than the output needs.

    Draft keeps both sides at least the requested size. Without a crop the output scale follows the long side;
    with one, the kept box is unknown until the crop callable runs, so the short side must keep enough pixels.
    """
    width, height = im.size
    reference = min(width, height) if for_crop else max(width, height)
    scale = long_side * _REDUCING_GAP / reference
    if scale < 0.5:
        im.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def _load(im: ImageFile.ImageFile) -> None:
    try:
        im.load()
    except _DECODE_ERRORS as exc:
        raise _refuse("The image could not be decoded; the file is damaged or truncated.") from exc
    # A HEIF item may decode to another size than its header announced. (Only the pixel count is checked again:
    # a JPEG decoded at draft scale is legitimately smaller than its header.)
    limit = settings.TRYON_MAX_IMAGE_PIXELS
    if im.width * im.height > limit:
        raise _refuse(f"The image is {im.width}x{im.height} pixels; the limit is {limit} pixels.")


# Bytes that cannot form a marker (no 0xFF): only a scan that ran out of data before its end decodes them.
_PROBE_FILLER = bytes(range(1, 255)) * 2


def _refuse_zero_filled_jpeg(im: Image.Image, *, data: bytes, long_side: int, for_crop: bool) -> None:
    """Refuse a JPEG cut short and closed with an EOI marker. libjpeg decodes it without an error: it leaves the
    blocks it has no data for at zero, a flat grey band down to the bottom. So when the last pixel row is one flat
    colour (the only case where the check costs anything), the file is decoded once more at the same scale with
    filler bytes placed before that EOI: a complete scan has ended and skips them, a cut one decodes them, and the
    pixels differ."""
    extrema = im.crop((0, im.height - 1, im.width, im.height)).getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    if any(low != high for low, high in bands):
        return
    last_scan = data.rfind(b"\xff\xda")
    end = data.find(b"\xff\xd9", last_scan) if last_scan >= 0 else -1
    if end < 0:
        return
    probe = Image.open(io.BytesIO(data[:end] + _PROBE_FILLER + data[end:]), formats=["JPEG"])
    _draft(probe, long_side=long_side, for_crop=for_crop)
    try:
        probe.load()
        same = probe.size == im.size and probe.mode == im.mode and probe.tobytes() == im.tobytes()
    except _DECODE_ERRORS:
        same = False  # the filler was decoded as image data: the scan had not ended
    if not same:
        raise _refuse("The image could not be decoded; the file is damaged or truncated.")


def _resizable(im: Image.Image) -> Image.Image:
    """Bring the decoded image to a mode that resizes with a real filter: L, LA, RGB, RGBA or CMYK."""
    if im.mode.startswith("I"):
        return _sixteen_bit_to_l(im)
    if im.has_transparency_data and im.mode not in ("RGBA", "LA"):
        # Palette/colour-key transparency only becomes an alpha channel through RGBA.
        return im.convert("RGBA")
    if im.mode == "1":
        return im.convert("L")
    if im.mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    try:
        return im.convert("RGB")
    except ValueError as exc:
        raise _refuse(f"Images in colour mode {im.mode} are not supported.") from exc


def _sixteen_bit_to_l(im: Image.Image) -> Image.Image:
    # Pillow's I/I;16 → L conversion clips at 255 instead of scaling, which would turn most of a 16-bit
    # greyscale PNG (the only 16-bit source among the allowed formats) white.
    pixels = np.asarray(im)
    if pixels.dtype.kind == "i":  # mode I: the same 16-bit samples, widened to 32 bits
        pixels = np.clip(pixels, 0, 65535)
    return Image.fromarray((pixels >> 8).astype(np.uint8))


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return im if method is None else im.transpose(method)


def _crop(im: Image.Image, crop_box: CropBox) -> Image.Image:
    left, top, right, bottom = crop_box(im)
    if not (0 <= left < right <= im.width and 0 <= top < bottom <= im.height):
        # A caller bug, not a bad upload: let it surface as one.
        raise ValueError(f"Crop box {(left, top, right, bottom)} is not inside the {im.width}x{im.height} image.")
    return im.crop((left, top, right, bottom))


def _cap(im: Image.Image, *, long_side: int) -> Image.Image:
    if max(im.size) <= long_side:
        return im
    scale = long_side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _to_srgb(im: Image.Image, *, icc_profile: bytes | None) -> Image.Image:
    """Return an RGB or RGBA image in sRGB, converting from the embedded profile when there is one."""
    target = "RGBA" if im.mode in ("RGBA", "LA") else "RGB"
    converted = _convert_profile(im, icc_profile=icc_profile, mode=target) if icc_profile else None
    if converted is not None:
        return converted
    return im if im.mode == target else im.convert(target)


def _convert_profile(im: Image.Image, *, icc_profile: bytes, mode: str) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        # A fresh sRGB profile per call (~0.1 ms): lcms profile handles are not meant to be shared across threads.
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(im, source, srgb, outputMode=mode)
    except _CMS_ERRORS:
        # A profile that cannot be parsed or does not fit the pixels is ignored and the pixels are kept as they
        # are, which is what browsers do with it.
        return None


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode != "RGBA":
        return im
    background = Image.new("RGB", im.size, _WHITE)
    background.paste(im, mask=im.getchannel("A"))
    return background


def _encode(im: Image.Image, *, input_format: str, image_format: str) -> NormalizedImage:
    # Pillow's encoders copy some metadata (ICC profile, comment, PNG transparency) from `info` by default;
    # the output must carry pixels only.
    im.info = {}
    buffer = io.BytesIO()
    if image_format == "PNG":
        im.save(buffer, format="PNG")
        content_type = "image/png"
    else:
        im.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        content_type = "image/jpeg"
    return NormalizedImage(
        data=buffer.getvalue(),
        content_type=content_type,
        width=im.width,
        height=im.height,
        format=input_format,
    )
