"""Row-level pieces the product services share: the expiry rule, row locking, and deleting products together with
their stored images.

Storage is not transactional, so blobs follow their rows: a blob is written before the transaction that
references it and discarded again if that transaction fails; blobs of rows a transaction removes go to the
platform's durable deletion queue in that same transaction, so their deletion can be delayed but never lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from accounts.models import Account
from products.models import Product, ProductImage
from tryon_project.storage import blob_deletions_schedule


def product_expiry(*, valid_for_days: int | None, last_used_at: datetime | None, created_at: datetime):
    """(last use, or creation) + valid_for_days; None when the product is kept forever (docs/products.md)."""
    if valid_for_days is None:
        return None
    return (last_used_at or created_at) + timedelta(days=valid_for_days)


def expiry_refresh(product: Product) -> None:
    product.expires_at = product_expiry(
        valid_for_days=product.valid_for_days, last_used_at=product.last_used_at, created_at=product.created_at
    )


def is_expired(product: Product, *, now: datetime) -> bool:
    return product.expires_at is not None and product.expires_at <= now


def locked_product(*, account: Account, external_id: str) -> Product | None:
    return Product.objects.select_for_update().filter(account=account, external_id=external_id).first()


def image_keys(rows: Iterable[ProductImage]) -> list[str]:
    return [key for row in rows for key in (row.upload_key, row.cached_key) if key]


def products_delete(*, ids: list[int]) -> None:
    """Delete products and schedule their blobs for deletion. Must run in a transaction. The image rows are locked
    first, so a worker caching one of them waits, then finds its row gone and deletes its own copy."""
    images = list(ProductImage.objects.select_for_update().filter(product_id__in=ids))
    Product.objects.filter(pk__in=ids).delete()
    blob_deletions_schedule(keys=image_keys(images), inline=True)
