"""What a client sent for one product, validated: the shared input of `POST /products` and of the inline and
one-shot modes of `/try-on` (docs/products.md).

Accepted shapes of an item: `images: [{url} | {fileKey} | {source: {url | fileKey}}]` and the deprecated
`imageUrls: ["…"]`. Omitted fields are :data:`UNSET`, so a partial update can tell "not sent" from `null`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from products.models import ANON_PREFIX, EXTERNAL_ID_MAX_LENGTH, SOURCE_URL_MAX_LENGTH, ProductCategory
from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.fields import DetailCollector, path_join
from tryon_project.api.multipart import ParsedBody
from tryon_project.images import ImageRejected, image_normalize

METADATA_MAX_BYTES = 16 * 1024
VALID_FOR_DAYS_MIN, VALID_FOR_DAYS_MAX = 1, 365
TITLE_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 20_000
# Not in the public contract; bounds the work one request can ask for.
IMAGES_MAX = 20


class Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class ImageInput:
    """One image entry: a URL (fetched later, by the worker) or uploaded bytes already normalised."""

    url: str | None = None
    data: bytes | None = field(default=None, repr=False)
    content_type: str | None = None


@dataclass(frozen=True)
class ProductInput:
    """A validated product item. Each field is UNSET when the client did not send it."""

    external_id: str | None = None
    title: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    images: tuple[ImageInput, ...] | Unset = UNSET
    metadata: dict | Unset | None = UNSET
    valid_for_days: int | Unset | None = UNSET
    category: str | Unset = UNSET

    @property
    def sends_fields(self) -> bool:
        """True when the item carries anything besides its id (an upsert rather than a reference)."""
        return any(
            value is not UNSET
            for value in (self.title, self.description, self.images, self.metadata, self.valid_for_days, self.category)
        )

    @property
    def try_on_mode(self) -> Literal["reference", "inline", "one_shot"]:
        """The `/try-on` product mode this item selects (docs/products.md)."""
        if self.external_id is None:
            return "one_shot"
        return "inline" if self.sends_fields else "reference"


def product_input_parse(*, item: dict, files: ParsedBody, path_prefix: str, require_external_id: bool) -> ProductInput:
    """Validate one product item of any accepted shape.

    `path_prefix` is where the item sits in the request body ("" for `POST /products`, "product" or
    "products.0" on `/try-on`); every error `details` path starts with it. With `require_external_id` a missing
    or empty `externalId` is EXTERNAL_ID_REQUIRED; without it, it means a one-shot product. An `_anon_` id is
    accepted only as a pure reference (an item with nothing but `externalId`) and only when the id is not
    required, i.e. never on `POST /products`.

    Uploaded parts named by `fileKey` are read and normalised through the one image path here, so every
    refusal (VALIDATION_FAILED, INVALID_IMAGE_INPUT, MULTIPART_FILE_NOT_FOUND, INVALID_IMAGE,
    PAYLOAD_TOO_LARGE) happens before anything is written.
    """
    errors = DetailCollector(path_prefix)
    if not isinstance(item, dict):
        raise validation_error([ErrorDetail(path=path_prefix, message="must be an object")])
    external_id = _external_id(item, errors, require=require_external_id)
    values: dict = {}
    for key, parse in (
        ("title", _text(TITLE_MAX_LENGTH)),
        ("description", _text(DESCRIPTION_MAX_LENGTH)),
        ("metadata", _metadata),
        ("validForDays", _valid_for_days),
        ("category", _category),
    ):
        if key in item:
            values[key] = parse(item[key], errors, key)
    entries = _image_entries(item, errors)
    is_reference = not values and entries is None
    if external_id is not None and external_id.startswith(ANON_PREFIX) and (require_external_id or not is_reference):
        errors.add("externalId", message=f"must not start with the reserved prefix '{ANON_PREFIX}'")
    if external_id is not None and "/" in external_id and not is_reference:
        # The id is a path segment of /products/{externalId} and /products/{externalId}/stats: with "/" allowed,
        # "a/stats" and the stats of "a" would be one path (docs/products.md).
        errors.add("externalId", message="must not contain '/'")
    errors.raise_if_any()
    images = None if entries is None else _resolve_images(entries, files, path_prefix)
    return ProductInput(
        external_id=external_id,
        title=values.get("title", UNSET),
        description=values.get("description", UNSET),
        images=UNSET if images is None else tuple(images),
        metadata=values.get("metadata", UNSET),
        valid_for_days=values.get("validForDays", UNSET),
        category=values.get("category", UNSET),
    )


def _external_id(item: dict, errors: DetailCollector, *, require: bool) -> str | None:
    value = item.get("externalId")
    # Shop platforms often hand out numeric product ids; they are the same id as their decimal string.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if require:
            raise ApiError(
                ErrorCode.EXTERNAL_ID_REQUIRED,
                "externalId is required.",
                details=[ErrorDetail(path=path_join(errors.prefix, "externalId"), message="is required")],
            )
        return None
    if not isinstance(value, str):
        errors.add("externalId", message="must be a string")
        return None
    if len(value) > EXTERNAL_ID_MAX_LENGTH:
        errors.add("externalId", message=f"must be at most {EXTERNAL_ID_MAX_LENGTH} characters")
        return None
    return value


def _text(max_length: int):
    def parse(value, errors: DetailCollector, key: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            errors.add(key, message="must be a string or null")
            return None
        if len(value) > max_length:
            errors.add(key, message=f"must be at most {max_length} characters")
        return value

    return parse


def _metadata(value, errors: DetailCollector, key: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(key, message="must be a JSON object or null")
        return None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > METADATA_MAX_BYTES:
        errors.add(key, message=f"must be at most {METADATA_MAX_BYTES} bytes once serialized (got {size})")
    return value


def _valid_for_days(value, errors: DetailCollector, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not VALID_FOR_DAYS_MIN <= value <= VALID_FOR_DAYS_MAX:
        errors.add(key, message=f"must be an integer from {VALID_FOR_DAYS_MIN} to {VALID_FOR_DAYS_MAX}, or null")
        return None
    return value


def _category(value, errors: DetailCollector, key: str) -> str:
    if value is None:
        return ProductCategory.AUTO
    if value not in ProductCategory.values:
        errors.add(key, message=f"must be one of {', '.join(ProductCategory.values)}")
        return ProductCategory.AUTO
    return value


# A raw entry after shape checks: ("url" | "fileKey", value, path parts of the value).
_Entry = tuple[str, str, tuple[str | int, ...]]


def _image_entries(item: dict, errors: DetailCollector) -> list[_Entry | None] | None:
    """Shape-check `images` / `imageUrls`; None when neither was sent. An entry with neither url nor fileKey
    is kept as None so that INVALID_IMAGE_INPUT is raised only once the rest of the item is valid."""
    images, image_urls = item.get("images"), item.get("imageUrls")
    if images is not None and image_urls is not None:
        errors.add("imageUrls", message="send either images or the deprecated imageUrls, not both")
        return []
    if image_urls is not None:
        if not isinstance(image_urls, list):
            errors.add("imageUrls", message="must be an array of URLs")
            return []
        entries: list[_Entry | None] = []
        for index, url in enumerate(image_urls):
            if _check_url(url, errors, ("imageUrls", index)):
                entries.append(("url", url, ("imageUrls", index)))
        _check_count(len(image_urls), errors, "imageUrls")
        return entries
    if images is None:
        return None
    if not isinstance(images, list):
        errors.add("images", message="must be an array")
        return []
    _check_count(len(images), errors, "images")
    return [_image_entry(entry, errors, index) for index, entry in enumerate(images)]


def _image_entry(entry, errors: DetailCollector, index: int) -> _Entry | None:
    base: tuple[str | int, ...] = ("images", index)
    if not isinstance(entry, dict):
        errors.add(*base, message="must be an object with url or fileKey")
        return None
    holder, where = entry, base
    source = entry.get("source")
    if source is not None and "url" not in entry and "fileKey" not in entry:
        if not isinstance(source, dict):
            errors.add(*base, "source", message="must be an object with url or fileKey")
            return None
        holder, where = source, (*base, "source")
    url, file_key = holder.get("url"), holder.get("fileKey")
    if url is not None and file_key is not None:
        errors.add(*where, message="must have either url or fileKey, not both")
        return None
    if url is not None:
        return ("url", url, (*where, "url")) if _check_url(url, errors, (*where, "url")) else None
    if file_key is not None:
        if not isinstance(file_key, str) or not file_key:
            errors.add(*where, "fileKey", message="must be a non-empty string")
            return None
        return ("fileKey", file_key, (*where, "fileKey"))
    return None


def _check_count(count: int, errors: DetailCollector, key: str) -> None:
    if count > IMAGES_MAX:
        errors.add(key, message=f"must hold at most {IMAGES_MAX} images")


def _check_url(url, errors: DetailCollector, parts: tuple[str | int, ...]) -> bool:
    """Syntax only: product image URLs are fetched later by the worker, through the safe fetcher."""
    if not isinstance(url, str) or not url:
        errors.add(*parts, message="must be a non-empty string")
        return False
    if len(url) > SOURCE_URL_MAX_LENGTH:
        errors.add(*parts, message=f"must be at most {SOURCE_URL_MAX_LENGTH} characters")
        return False
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError on an invalid port
    except ValueError:
        errors.add(*parts, message="must be a valid http or https URL")
        return False
    if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname or any(c.isspace() for c in url):
        errors.add(*parts, message="must be a valid http or https URL")
        return False
    return True


def _resolve_images(entries: list[_Entry | None], files: ParsedBody, prefix: str) -> list[ImageInput]:
    checked: list[_Entry] = []
    for index, entry in enumerate(entries):
        if entry is None:
            path = path_join(prefix, "images", index)
            raise ApiError(
                ErrorCode.INVALID_IMAGE_INPUT,
                "Each images[] entry needs a url or a fileKey.",
                details=[ErrorDetail(path=path, message="needs a url or a fileKey")],
            )
        checked.append(entry)
    normalised: dict[str, ImageInput] = {}
    images: list[ImageInput] = []
    for kind, value, value_parts in checked:
        if kind == "url":
            images.append(ImageInput(url=value))
            continue
        if value not in normalised:
            path = path_join(prefix, *value_parts)
            normalised[value] = _normalise_upload(files=files, key=value, path=path)
        images.append(normalised[value])
    return images


def _normalise_upload(*, files: ParsedBody, key: str, path: str) -> ImageInput:
    upload = files.file(key=key, path=path)
    try:
        image = image_normalize(data=upload.read())
    except ImageRejected as exc:
        raise ApiError(exc.code, exc.message, details=[ErrorDetail(path=path, message=exc.message)]) from exc
    return ImageInput(data=image.data, content_type=image.content_type)
