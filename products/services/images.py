"""Product image bytes for the worker, and the snapshot a generation keeps of its product."""

from __future__ import annotations

import logging

from django.utils import timezone

from products.errors import ProductImageUnavailable
from products.models import Product, ProductImage
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.http_fetch import FetchError, url_fetch
from tryon_project.images import ImageRejected, NormalizedImage, image_normalize
from tryon_project.storage import blob_discard, blob_read, blob_save

logger = logging.getLogger("tryon.products")

CACHE_BLOB_KIND = "product-cache"
_TRANSIENT_FETCH_REASONS = frozenset({"timeout", "connection"})


def product_snapshot(*, product: Product) -> dict:
    """What a generation records about its product, so that editing or deleting the product later never
    rewrites history. JSON-serialisable; `stored_key` is the storage key of the uploaded bytes or of the cached
    download at snapshot time (None for a URL not downloaded yet). Pass a product with its images prefetched
    (what `product_upsert` and `product_get` return) to avoid a query."""
    return {
        "account_id": product.account_id,
        "external_id": product.external_id,
        "title": product.title,
        "description": product.description,
        "category": product.category,
        "images": [
            {
                "image_id": image.pk,
                "order": image.order,
                "source_url": image.source_url,
                "upload_ref": image.upload_ref,
                "stored_key": image.upload_key or image.cached_key,
            }
            for image in product.images.all()
        ],
    }


def product_image_bytes(*, image: ProductImage) -> bytes:
    """The processed bytes of one product image, for the worker.

    Uploaded images are read from storage. A URL image is downloaded through the one safe fetcher and
    normalised only the first time; the result is cached on the row and every later generation reads the
    cache. Two workers racing on the same image both succeed; one copy is kept, the other deleted. Call it
    outside a long transaction: the cache write is its own conditional UPDATE.
    Raises :class:`ProductImageUnavailable` (PRODUCT_IMAGE_FETCH_FAILED or PRODUCT_IMAGE_INVALID).
    """
    if image.upload_key:
        return _stored(key=image.upload_key)
    if image.cached_key:
        try:
            return blob_read(key=image.cached_key)
        except OSError:
            # The cached copy is gone (storage cleanup, a restore); download it again below.
            logger.warning("cached product image missing; fetching again")
    if not image.source_url:
        raise ProductImageUnavailable(
            code=GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED, message="The product image has no source."
        )
    normalised = _download(url=image.source_url)
    key = blob_save(kind=CACHE_BLOB_KIND, data=normalised.data, content_type=normalised.content_type)
    fetched_at = timezone.now()
    won = ProductImage.objects.filter(pk=image.pk, cached_key=image.cached_key).update(
        cached_key=key, fetched_at=fetched_at
    )
    if won:
        if image.cached_key:
            blob_discard(keys=[image.cached_key])
        image.cached_key, image.fetched_at = key, fetched_at
    else:
        # Another worker cached it first, or the image was removed meanwhile: keep no second copy.
        blob_discard(keys=[key])
    return normalised.data


def snapshot_image_bytes(*, snapshot: dict) -> list[bytes]:
    """The garment images of a generation, in order, from the snapshot it took at acceptance.

    While the product image still exists this is :func:`product_image_bytes` (cached, downloaded once). If the
    product was edited or deleted since, the snapshot's stored copy is used while it lasts, then the source URL
    is downloaded again (without caching: nothing owns that copy)."""
    refs = sorted(snapshot.get("images") or [], key=lambda ref: ref.get("order", 0))
    if not refs:
        raise ProductImageUnavailable(
            code=GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED, message="The product has no image."
        )
    ids = [ref["image_id"] for ref in refs if ref.get("image_id")]
    rows = {
        row.pk: row for row in ProductImage.objects.filter(pk__in=ids, product__account_id=snapshot.get("account_id"))
    }
    return [_snapshot_image(ref=ref, row=rows.get(ref.get("image_id"))) for ref in refs]


def _snapshot_image(*, ref: dict, row: ProductImage | None) -> bytes:
    if row is not None:
        return product_image_bytes(image=row)
    if ref.get("stored_key"):
        try:
            return blob_read(key=ref["stored_key"])
        except OSError:
            logger.info("snapshot copy of a product image is gone")
    if ref.get("source_url"):
        return _download(url=ref["source_url"]).data
    raise ProductImageUnavailable(
        code=GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED, message="An uploaded product image is no longer available."
    )


def _download(*, url: str) -> NormalizedImage:
    try:
        fetched = url_fetch(url=url)
    except FetchError as exc:
        logger.info("product image fetch failed: %s", exc.reason)
        transient = exc.reason in _TRANSIENT_FETCH_REASONS or (exc.status or 0) >= 500
        raise ProductImageUnavailable(
            code=GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED,
            message=f"A product image could not be downloaded: {exc}",
            retryable=transient,
        ) from exc
    try:
        return image_normalize(data=fetched.content)
    except ImageRejected as exc:
        raise ProductImageUnavailable(
            code=GenerationErrorCode.PRODUCT_IMAGE_INVALID, message=f"A product image is not usable: {exc.message}"
        ) from exc


def _stored(*, key: str) -> bytes:
    try:
        return blob_read(key=key)
    except OSError as exc:
        raise ProductImageUnavailable(
            code=GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED,
            message="A stored product image is no longer available.",
        ) from exc
