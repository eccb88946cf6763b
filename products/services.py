"""Writes for products: the one upsert (catalog, inline and one-shot), use tracking, deletion and the purge.

Stored blobs follow their rows: a blob is written before the transaction that references it and deleted again if
that transaction fails; blobs of rows that a transaction removes are deleted only after it commits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from products.errors import ProductImageUnavailable
from products.inputs import UNSET, ImageInput, ProductInput
from products.models import ANON_PREFIX, Product, ProductCategory, ProductImage, ProductKind
from products.selectors import product_not_found
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.http_fetch import FetchError, url_fetch
from tryon_project.images import image_normalize
from tryon_project.storage import blob_delete, blob_read, blob_save

logger = logging.getLogger("tryon.products")

ProductMode = Literal["catalog", "inline", "one_shot"]

INLINE_VALID_FOR_DAYS = 15
ONE_SHOT_VALID_FOR_DAYS = 7
UPLOAD_BLOB_KIND = "product-upload"
CACHE_BLOB_KIND = "product-cache"


def product_expiry(*, valid_for_days: int | None, last_used_at: datetime | None, created_at: datetime):
    """(last use, or creation) + valid_for_days; None when the product is kept forever (spec §2.7)."""
    if valid_for_days is None:
        return None
    return (last_used_at or created_at) + timedelta(days=valid_for_days)


def _refresh_expiry(product: Product) -> None:
    product.expires_at = product_expiry(
        valid_for_days=product.valid_for_days, last_used_at=product.last_used_at, created_at=product.created_at
    )


def product_upsert(
    *, account: Account, external_id: str | None, fields: ProductInput, mode: ProductMode
) -> tuple[Product, bool]:
    """Create or partially update one product; returns (product, created).

    - `external_id`: the product's identity (for "catalog" and "inline"); must be None for "one_shot", which
      always creates a product with a fresh `_anon_…` id. `fields.external_id` is not read.
    - `fields`: what the client sent (from :func:`products.inputs.product_input_parse`); UNSET fields keep their
      stored values, `images` replaces the whole list, `valid_for_days=None` means kept forever.
    - `mode`: "catalog" (`POST /products`: created with `valid_for_days` as sent, default forever; an update
      makes the product a catalog one), "inline" (`/try-on` with fields: created with 15 days; an update never
      touches the kind or the lifetime, so it can never shorten a catalog product's), "one_shot" (7 days).

    Raises PRODUCT_IMAGES_REQUIRED when the call would create a product, or leave one, without an image.
    Concurrent upserts of one id resolve to one row: the unique constraint decides who creates it, the others
    then lock it and apply their payload whole, so the row always equals exactly one payload.
    Does not record use: generations call :func:`product_touch`.
    """
    if mode == "one_shot":
        if external_id is not None:
            raise ValueError("one-shot products get a server id; pass external_id=None")
        external_id = f"{ANON_PREFIX}{secrets.token_urlsafe(16)}"
    elif not external_id:
        raise ValueError(f"mode {mode!r} needs an external_id")
    if fields.images is not UNSET and not fields.images:
        raise ApiError(ErrorCode.PRODUCT_IMAGES_REQUIRED, "A product needs at least one image.")
    uploads = _uploads_save(() if fields.images is UNSET else fields.images)
    try:
        with transaction.atomic():
            product, created = _lock_or_create(account=account, external_id=external_id, fields=fields, mode=mode)
            _apply(product=product, fields=fields, mode=mode, created=created)
            if fields.images is not UNSET:
                _images_replace(product=product, images=fields.images, uploads=uploads)
    except BaseException:
        _blobs_delete_now(uploads.values())
        raise
    product = Product.objects.prefetch_related("images").get(pk=product.pk)
    return product, created


def _lock_or_create(
    *, account: Account, external_id: str, fields: ProductInput, mode: ProductMode
) -> tuple[Product, bool]:
    product = _locked(account=account, external_id=external_id)
    if product is not None and product.expires_at is not None and product.expires_at <= timezone.now():
        # Expired products are absent everywhere; upserting one starts a new product in its place.
        _products_delete(ids=[product.pk])
        product = None
    if product is not None:
        return product, False
    if fields.images is UNSET:
        raise ApiError(ErrorCode.PRODUCT_IMAGES_REQUIRED, "Creating a product needs at least one image.")
    try:
        # A savepoint, so that losing the race leaves the outer transaction usable.
        with transaction.atomic():
            product = Product.objects.create(account=account, external_id=external_id, kind=mode)
        return product, True
    except IntegrityError:
        # Another request created it first (and has committed: the INSERT waited for it). Apply on top.
        product = _locked(account=account, external_id=external_id)
        if product is None:
            raise
        return product, False


def _locked(*, account: Account, external_id: str) -> Product | None:
    return Product.objects.select_for_update().filter(account=account, external_id=external_id).first()


def _apply(*, product: Product, fields: ProductInput, mode: ProductMode, created: bool) -> None:
    for name in ("title", "description", "metadata"):
        value = getattr(fields, name)
        if value is not UNSET:
            setattr(product, name, value)
    if fields.category is not UNSET:
        product.category = fields.category or ProductCategory.AUTO
    if created:
        product.kind = mode
        product.valid_for_days = {
            "catalog": None if fields.valid_for_days is UNSET else fields.valid_for_days,
            "inline": INLINE_VALID_FOR_DAYS,
            "one_shot": ONE_SHOT_VALID_FOR_DAYS,
        }[mode]
    elif mode == "catalog":
        product.kind = ProductKind.CATALOG
        if fields.valid_for_days is not UNSET:
            product.valid_for_days = fields.valid_for_days
    _refresh_expiry(product)
    product.save()


def _uploads_save(images: Iterable[ImageInput]) -> dict[int, str]:
    """Store uploaded bytes before the transaction (storage is not transactional); id(ImageInput) → key."""
    keys: dict[int, str] = {}
    try:
        for image in images:
            if image.data is not None and id(image) not in keys:
                keys[id(image)] = blob_save(
                    kind=UPLOAD_BLOB_KIND, data=image.data, content_type=image.content_type or "image/jpeg"
                )
    except BaseException:
        _blobs_delete_now(keys.values())
        raise
    return keys


def _images_replace(*, product: Product, images: Iterable[ImageInput], uploads: dict[int, str]) -> None:
    """Replace the image list. Rows whose URL is sent again are kept (moved if needed) with their cached copy,
    so re-sending the same images on every inline try-on never downloads them again."""
    current = list(ProductImage.objects.select_for_update().filter(product=product).order_by("order", "id"))
    reusable: dict[str, list[ProductImage]] = {}
    for row in current:
        if row.source_url is not None:
            reusable.setdefault(row.source_url, []).append(row)
    kept: set[int] = set()
    new_rows: list[ProductImage] = []
    for order, image in enumerate(images):
        if image.url is not None and reusable.get(image.url):
            row = reusable[image.url].pop(0)
            kept.add(row.pk)
            if row.order != order:
                ProductImage.objects.filter(pk=row.pk).update(order=order)
        elif image.url is not None:
            new_rows.append(ProductImage(product=product, order=order, source_url=image.url))
        else:
            # The same part named twice is stored once; each row still gets its own opaque reference.
            new_rows.append(
                ProductImage(
                    product=product, order=order, upload_key=uploads[id(image)], upload_ref=secrets.token_urlsafe(16)
                )
            )
    removed = [row for row in current if row.pk not in kept]
    if removed:
        ProductImage.objects.filter(pk__in=[row.pk for row in removed]).delete()
    ProductImage.objects.bulk_create(new_rows)
    still_used = {row.upload_key for row in new_rows if row.upload_key}
    _blobs_delete_on_commit(key for key in _row_keys(removed) if key not in still_used)


def _row_keys(rows: Iterable[ProductImage]) -> list[str]:
    return [key for row in rows for key in (row.upload_key, row.cached_key) if key]


def _blobs_delete_on_commit(keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        transaction.on_commit(lambda: _blobs_delete_now(keys))


def _blobs_delete_now(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            blob_delete(key=key)
        except OSError:
            # An orphaned object costs storage, not correctness; never fail the request for it.
            logger.warning("could not delete a product blob", exc_info=True)


def _products_delete(*, ids: list[int]) -> None:
    """Delete products and, after commit, their blobs. The image rows are locked first, so a worker that is
    caching an image of one of them waits and then finds its row gone (and deletes its own blob)."""
    images = list(ProductImage.objects.select_for_update().filter(product_id__in=ids))
    Product.objects.filter(pk__in=ids).delete()
    _blobs_delete_on_commit(_row_keys(images))


def product_touch(*, product: Product, now: datetime | None = None) -> Product:
    """Record a use (every generation calls it): refreshes `last_used_at` and so moves `expires_at`."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk=product.pk, account_id=product.account_id).first()
        if locked is None:
            return product
        locked.last_used_at = now
        _refresh_expiry(locked)
        locked.save(update_fields=["last_used_at", "expires_at", "updated_at"])
    product.last_used_at, product.expires_at, product.updated_at = (
        locked.last_used_at, locked.expires_at, locked.updated_at
    )
    return product


def product_delete(*, account: Account, external_id: str) -> None:
    """Delete a live product and its stored images; PRODUCT_NOT_FOUND when unknown or expired. Past
    generations keep their own snapshot and are not touched."""
    with transaction.atomic():
        product = _locked(account=account, external_id=external_id)
        now = timezone.now()
        if product is None or (product.expires_at is not None and product.expires_at <= now):
            raise product_not_found(external_id)
        _products_delete(ids=[product.pk])


def product_purge_expired(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete every expired product (all accounts) with its stored images; returns how many were deleted.

    Idempotent and safe on several workers at once: each batch claims its rows with SKIP LOCKED (where the
    database has it), so two purges never wait on or double-delete the same rows."""
    now = now or timezone.now()
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Product.objects.select_for_update(skip_locked=True)
                .filter(expires_at__lte=now)
                .order_by("expires_at", "id")
                .values_list("id", flat=True)[:batch_size]
            )
            if ids:
                _products_delete(ids=ids)
        deleted += len(ids)
        if len(ids) < batch_size:
            break
    if deleted:
        logger.info("purged %d expired products", deleted)
    return deleted


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
            # The cached copy is gone (storage cleanup, restore); download it again below.
            logger.warning("cached product image missing; fetching again")
    if not image.source_url:
        raise ProductImageUnavailable(code="PRODUCT_IMAGE_FETCH_FAILED", message="The product image has no source.")
    try:
        fetched = url_fetch(url=image.source_url)
    except FetchError as exc:
        logger.info("product image fetch failed: %s", exc.reason)
        raise ProductImageUnavailable(
            code="PRODUCT_IMAGE_FETCH_FAILED", message=f"A product image could not be downloaded: {exc}"
        ) from exc
    try:
        normalised = image_normalize(data=fetched.content)
    except ApiError as exc:
        raise ProductImageUnavailable(
            code="PRODUCT_IMAGE_INVALID", message=f"A product image is not usable: {exc.message}"
        ) from exc
    key = blob_save(kind=CACHE_BLOB_KIND, data=normalised.data, content_type=normalised.content_type)
    fetched_at = timezone.now()
    won = ProductImage.objects.filter(pk=image.pk, cached_key=image.cached_key).update(
        cached_key=key, fetched_at=fetched_at
    )
    if won:
        if image.cached_key:
            _blobs_delete_now([image.cached_key])
        image.cached_key, image.fetched_at = key, fetched_at
        return normalised.data
    # Another worker cached it first, or the image was removed meanwhile: keep no second copy.
    _blobs_delete_now([key])
    return normalised.data


def _stored(*, key: str) -> bytes:
    try:
        return blob_read(key=key)
    except OSError as exc:
        raise ProductImageUnavailable(
            code="PRODUCT_IMAGE_FETCH_FAILED", message="A stored product image is no longer available."
        ) from exc
