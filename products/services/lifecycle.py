"""Use tracking, deletion and the purge of expired products."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from products.models import Product
from products.selectors import product_not_found
from products.services.rows import expiry_refresh, is_expired, locked_product, products_delete

logger = logging.getLogger("tryon.products")


def product_touch(*, product: Product, now: datetime | None = None, row_locked: bool = False) -> Product:
    """Record a use (every generation calls it): refreshes `last_used_at` and so moves `expires_at`.

    `row_locked`: the caller's open transaction already holds the row's lock and `product` is what it read or wrote
    under it (a try-on resolves its product that way), so the row can neither be gone nor differ: it is updated
    from `product` directly, without locking and reading it again."""
    now = now or timezone.now()
    if row_locked:
        if not transaction.get_connection().in_atomic_block:
            raise ValueError("row_locked=True needs the transaction that holds the lock")
        product.last_used_at = now
        expiry_refresh(product)
        product.save(update_fields=["last_used_at", "expires_at", "updated_at"])
        return product
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk=product.pk, account_id=product.account_id).first()
        if locked is None:
            return product
        locked.last_used_at = now
        expiry_refresh(locked)
        locked.save(update_fields=["last_used_at", "expires_at", "updated_at"])
    product.last_used_at, product.expires_at, product.updated_at = (
        locked.last_used_at,
        locked.expires_at,
        locked.updated_at,
    )
    return product


def product_delete(*, account: Account, external_id: str) -> None:
    """Delete a live product and its stored images; PRODUCT_NOT_FOUND when unknown or expired. Past
    generations keep their own snapshot and are not touched."""
    with transaction.atomic():
        product = locked_product(account=account, external_id=external_id)
        if product is None or is_expired(product, now=timezone.now()):
            raise product_not_found(external_id)
        products_delete(ids=[product.pk])


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
                products_delete(ids=ids)
        deleted += len(ids)
        if len(ids) < batch_size:
            break
    if deleted:
        logger.info("purged %d expired products", deleted)
    return deleted
