"""Writes for customer photos: creation through the one image path, retention purge, erasure of one end user."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from customers.crop import person_crop
from customers.models import BlobDeletion, CustomerImage, ImageSource
from tryon_project.images import image_normalize
from tryon_project.storage import blob_delete, blob_save

logger = logging.getLogger("tryon.customers")


def retention_days_resolve(*, account: Account, requested: int | None) -> int:
    return requested or account.customer_retention_days


def customer_image_create(
    *,
    account: Account,
    data: bytes,
    crop: bool,
    customer_id: str = "",
    retention_days: int | None = None,
    source: ImageSource = ImageSource.UPLOAD,
) -> CustomerImage:
    """Validate and clean the photo (EXIF applied then stripped, sRGB, long side capped, optional person crop),
    store it under a random key and record it with its expiry."""
    normalized = image_normalize(data=data, crop_box=person_crop if crop else None)
    days = retention_days_resolve(account=account, requested=retention_days)
    key = blob_save(kind="customer", data=normalized.data, content_type=normalized.content_type)
    try:
        return CustomerImage.objects.create(
            account=account,
            customer_id=customer_id,
            source=source,
            storage_key=key,
            content_type=normalized.content_type,
            width=normalized.width,
            height=normalized.height,
            retention_days=days,
            expires_at=timezone.now() + timedelta(days=days),
        )
    except Exception:
        # The row is the only reference to the object: do not leave an orphan behind.
        blob_delete(key=key)
        raise


def blob_deletions_schedule(*, keys: list[str]) -> None:
    """Record objects to delete; must run inside the transaction that drops the references to them."""
    unique = sorted({key for key in keys if key})
    if unique:
        BlobDeletion.objects.bulk_create([BlobDeletion(storage_key=key) for key in unique], ignore_conflicts=True)


def blob_deletions_process(*, batch_size: int = 200, keys: list[str] | None = None) -> int:
    """Delete scheduled objects from storage; idempotent and safe on several workers (rows are claimed with
    SKIP LOCKED where the database supports it). Returns how many objects were deleted."""
    deleted = 0
    with transaction.atomic():
        queryset = BlobDeletion.objects.order_by("id")
        if keys is not None:
            queryset = queryset.filter(storage_key__in=keys)
        claimed = list(queryset.select_for_update(skip_locked=True)[:batch_size])
        for row in claimed:
            try:
                blob_delete(key=row.storage_key)
            except Exception as exc:  # noqa: BLE001 - any storage failure is retried by the next run
                logger.warning("storage deletion failed (attempt %d): %s", row.attempts + 1, type(exc).__name__)
                BlobDeletion.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1, last_error=type(exc).__name__[:200]
                )
                continue
            row.delete()
            deleted += 1
    return deleted


def customer_images_purge_expired(*, batch_size: int = 500) -> int:
    """Forget expired customer photos (their objects are scheduled for deletion in the same transaction)."""
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            CustomerImage.objects.filter(expires_at__lte=now)
            .select_for_update(skip_locked=True)
            .values_list("id", "storage_key")[:batch_size]
        )
        if not expired:
            return 0
        blob_deletions_schedule(keys=[key for _, key in expired])
        CustomerImage.objects.filter(id__in=[image_id for image_id, _ in expired]).delete()
    return len(expired)


def customer_images_erase(*, account: Account, customer_id: str) -> list[str]:
    """Delete the upload-tracking rows of one end user and schedule their objects; returns the keys.
    Runs inside the erasure transaction."""
    images = CustomerImage.objects.filter(account=account, customer_id=customer_id)
    keys = list(images.values_list("storage_key", flat=True))
    blob_deletions_schedule(keys=keys)
    images.delete()
    return keys


def customer_image_discard(*, image: CustomerImage) -> None:
    """Undo a photo created by a call that was then refused (e.g. no credit left): nothing may remain."""
    blob_delete(key=image.storage_key)
    CustomerImage.objects.filter(pk=image.pk).delete()
