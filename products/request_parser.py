"""A product item as a client sent it -> a validated :class:`products.inputs.ProductInput`: the item's shape
normaliser, then the one item schema (`products.serializers.ProductItemSerializer`), then the images' bytes.

Accepted shapes of an item: `images: [{url} | {fileKey} | {source: {url | fileKey}}]` and the deprecated
`imageUrls: ["…"]`; both are rewritten onto `images: [{url} | {fileKey}]` before validation, with the paths the
client used kept for error `details`."""

from __future__ import annotations

from dataclasses import dataclass

from products.inputs import UNSET, ImageInput, ProductInput
from products.serializers import ProductItemSerializer, ProductUpsertSerializer
from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail
from tryon_project.api.multipart import ParsedBody
from tryon_project.api.request_schema import path_sent, schema_validate
from tryon_project.images import ImageRejected, image_normalize


@dataclass(frozen=True)
class NormalisedItem:
    """The canonical item, where each canonical path came from (`paths`), and the shape problems found on the way
    (`issues`, reported with the schema's field errors)."""

    data: object
    paths: dict[str, str]
    issues: list[ErrorDetail]


def product_item_normalise(*, item: object, prefix: str) -> NormalisedItem:
    """Rewrite `imageUrls` and `{source: {...}}` entries onto `images: [{url} | {fileKey}]`. `prefix` is where the
    item sits in the body ("" for `POST /products`, "product" or "products.0" on `/try-on`)."""
    paths = {"": prefix}
    if not isinstance(item, dict):
        return NormalisedItem(item, paths, [])
    data = {key: value for key, value in item.items() if key not in ("images", "imageUrls")}
    images, image_urls = item.get("images"), item.get("imageUrls")
    issues: list[ErrorDetail] = []
    if images is not None and image_urls is not None:
        issues.append(
            ErrorDetail(
                path=_under(prefix, "imageUrls"), message="send either images or the deprecated imageUrls, not both"
            )
        )
    elif image_urls is not None:
        if not isinstance(image_urls, list):
            issues.append(ErrorDetail(path=_under(prefix, "imageUrls"), message="must be an array of URLs"))
        else:
            data["images"] = [{"url": url} for url in image_urls]
            paths["images"] = _under(prefix, "imageUrls")
            paths.update(
                {f"images.{index}.url": _under(prefix, f"imageUrls.{index}") for index in range(len(image_urls))}
            )
    if images is not None:
        data["images"] = images
        if isinstance(images, list):
            data["images"] = [_entry(entry, index, prefix, paths) for index, entry in enumerate(images)]
    return NormalisedItem(data, paths, issues)


def _entry(entry: object, index: int, prefix: str, paths: dict[str, str]) -> object:
    if not isinstance(entry, dict):
        return entry
    if "url" in entry or "fileKey" in entry:
        return {key: value for key, value in entry.items() if key != "source"}
    source = entry.get("source")
    if isinstance(source, dict):
        paths[f"images.{index}"] = _under(prefix, f"images.{index}.source")
        return source
    return entry


def _under(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def product_input_parse(
    *, item: object, files: ParsedBody, path_prefix: str, require_external_id: bool
) -> ProductInput:
    """Validate one product item of any accepted shape.

    Every error `details` path starts with `path_prefix`. With `require_external_id` a missing or empty
    `externalId` is EXTERNAL_ID_REQUIRED; without it, it means a one-shot product. An `_anon_` id is accepted only
    as a pure reference (an item with nothing but `externalId`) and only when the id is not required, i.e. never
    on `POST /products`.

    Uploaded parts named by `fileKey` are read and normalised through the one image path here, so every
    refusal (VALIDATION_FAILED, INVALID_IMAGE_INPUT, MULTIPART_FILE_NOT_FOUND, INVALID_IMAGE,
    PAYLOAD_TOO_LARGE) happens before anything is written."""
    normalised = product_item_normalise(item=item, prefix=path_prefix)
    schema = ProductUpsertSerializer if require_external_id else ProductItemSerializer
    values = schema_validate(schema=schema(data=normalised.data), paths=normalised.paths, issues=normalised.issues)
    return product_input_build(values=values, files=files, paths=normalised.paths)


def product_input_build(*, values: dict, files: ParsedBody, paths: dict[str, str]) -> ProductInput:
    """The typed item from the schema's validated values (canonical names), with each image resolved."""
    images = values.get("images")
    return ProductInput(
        external_id=values.get("externalId"),
        title=values.get("title", UNSET),
        description=values.get("description", UNSET),
        images=UNSET if images is None else tuple(_resolve_images(images, files, paths)),
        metadata=values.get("metadata", UNSET),
        valid_for_days=values.get("validForDays", UNSET),
        category=values.get("category", UNSET),
    )


def _resolve_images(entries: list[dict], files: ParsedBody, paths: dict[str, str]) -> list[ImageInput]:
    for index, entry in enumerate(entries):
        if not entry:
            # The entry itself, as it sits in the list, even when its empty object came as `{source: {}}`.
            path = f"{path_sent(path='images', paths=paths)}.{index}"
            raise ApiError(
                ErrorCode.INVALID_IMAGE_INPUT,
                "Each images[] entry needs a url or a fileKey.",
                details=[ErrorDetail(path=path, message="needs a url or a fileKey")],
            )
    normalised: dict[str, ImageInput] = {}
    images: list[ImageInput] = []
    for index, entry in enumerate(entries):
        if "url" in entry:
            images.append(ImageInput(url=entry["url"]))
            continue
        key = entry["fileKey"]
        if key not in normalised:
            path = path_sent(path=f"images.{index}.fileKey", paths=paths)
            normalised[key] = _normalise_upload(files=files, key=key, path=path)
        images.append(normalised[key])
    return images


def _normalise_upload(*, files: ParsedBody, key: str, path: str) -> ImageInput:
    upload = files.file(key=key, path=path)
    try:
        image = image_normalize(data=upload.read())
    except ImageRejected as exc:
        raise ApiError(exc.code, exc.message, details=[ErrorDetail(path=path, message=exc.message)]) from exc
    return ImageInput(data=image.data, content_type=image.content_type)
