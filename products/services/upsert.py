"""The one product upsert, shared by `POST /products` and the inline and one-shot modes of `/try-on`."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from accounts.models import Account
from products.inputs import UNSET, ImageInput, ProductInput
from products.models import ANON_PREFIX, Product, ProductCategory, ProductImage, ProductKind
from products.selectors import product_get
from products.services.rows import expiry_refresh, image_keys, is_expired, locked_product, products_delete
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.storage import blob_deletions_schedule, blob_discard, blob_save

ProductMode = Literal["catalog", "inline", "one_shot"]

INLINE_VALID_FOR_DAYS = 15
ONE_SHOT_VALID_FOR_DAYS = 7
UPLOAD_BLOB_KIND = "product-upload"


def product_upsert(
    *, account: Account, external_id: str | None, fields: ProductInput, mode: ProductMode
) -> tuple[Product, bool]:
    """Create or partially update one product; returns (product with its images, created).

    - `external_id`: the product's identity (for "catalog" and "inline"); must be None for "one_shot", which
      always creates a product with a fresh `_anon_…` id. `fields.external_id` is not read.
    - `fields`: what the client sent (from :func:`products.request_parser.product_input_parse`); UNSET fields keep
      their stored values, `images` replaces the whole list, `valid_for_days=None` means kept forever.
    - `mode`: "catalog" (`POST /products`: created with `valid_for_days` as sent, default forever; an update
      makes the product a catalog one), "inline" (`/try-on` with fields: created with 15 days; an update never
      touches the kind or the lifetime, so it can never shorten a catalog product's), "one_shot" (7 days).

    Raises PRODUCT_IMAGES_REQUIRED when the call would create a product, or leave one, without an image.
    An expired product is absent: upserting its id creates a new product in its place.
    Concurrent upserts of one id resolve to one row: the unique constraint decides who creates it, the others
    then lock it and apply their payload whole, so the row always equals exactly one payload.
    Does not record use: generations call `product_touch`. Uploaded bytes are stored before the transaction and
    deleted if it fails here; a caller that wraps this in its own transaction opens it with
    `tryon_project.storage.blob_atomic`, which deletes them when that transaction rolls back later.
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
        blob_discard(keys=uploads.values())
        raise
    # Every column was just written from `product` (or read under the lock): only the replaced images are loaded.
    prefetch_related_objects([product], "images")
    return product, created


def product_resolve_for_tryon(*, account: Account, fields: ProductInput) -> Product:
    """The product of one `/try-on` item (already validated by `product_input_parse`), by the mode the item
    selects (docs/products.md): reference (the product must exist and be live, else PRODUCT_NOT_FOUND), inline upsert,
    or one-shot creation. Call it inside the transaction that creates the generation, then `product_touch` the
    result."""
    mode = fields.try_on_mode
    if mode == "reference":
        # Locked until the generation commits (the touch would lock it later anyway): an upsert replacing the images
        # waits, so the try-on's snapshot is either the old images with its generation visible to the deletion
        # run that would remove them (they are held for it), or the new images.
        locked_product(account=account, external_id=fields.external_id or "")
        return product_get(account=account, external_id=fields.external_id or "")
    product, _ = product_upsert(account=account, external_id=fields.external_id, fields=fields, mode=mode)
    return product


def _lock_or_create(
    *, account: Account, external_id: str, fields: ProductInput, mode: ProductMode
) -> tuple[Product, bool]:
    product = locked_product(account=account, external_id=external_id)
    if product is not None and is_expired(product, now=timezone.now()):
        products_delete(ids=[product.pk])
        product = None
    if product is not None:
        return product, False
    if fields.images is UNSET:
        raise ApiError(ErrorCode.PRODUCT_IMAGES_REQUIRED, "Creating a product needs at least one image.")
    try:
        # A savepoint, so that losing the race leaves the outer transaction usable.
        with transaction.atomic():
            return Product.objects.create(account=account, external_id=external_id, kind=mode), True
    except IntegrityError:
        # Another request created it first; its INSERT has committed (ours waited for it). Apply on top.
        product = locked_product(account=account, external_id=external_id)
        if product is None:
            raise
        return product, False


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
    expiry_refresh(product)
    product.save()


def _uploads_save(images: Iterable[ImageInput]) -> dict[int, str]:
    """Store uploaded bytes ahead of the transaction; id(ImageInput) → key (one part named twice: one blob)."""
    keys: dict[int, str] = {}
    try:
        for image in images:
            if image.data is not None and id(image) not in keys:
                keys[id(image)] = blob_save(
                    kind=UPLOAD_BLOB_KIND, data=image.data, content_type=image.content_type or "image/jpeg"
                )
    except BaseException:
        blob_discard(keys=keys.values())
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
            new_rows.append(
                ProductImage(
                    product=product, order=order, upload_key=uploads[id(image)], upload_ref=secrets.token_urlsafe(16)
                )
            )
    removed = [row for row in current if row.pk not in kept]
    if removed:
        ProductImage.objects.filter(pk__in=[row.pk for row in removed]).delete()
    ProductImage.objects.bulk_create(new_rows)
    blob_deletions_schedule(keys=image_keys(removed), inline=True)
