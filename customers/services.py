"""Writes for customer photos: creation through the one image path and the retention purge (erasure of one end
user: `customers/erasure.py`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from customers.crop import person_crop
from customers.models import CustomerImage, ImageSource
from tryon_project.images import image_normalize
from tryon_project.storage import blob_deletions_schedule, blob_discard, blob_save

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
        blob_discard(keys=[key])
        raise


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


def customer_image_discard(*, image: CustomerImage) -> None:
    """Undo a photo created by a call that was then refused (e.g. no credit left): nothing may remain."""
    CustomerImage.objects.filter(pk=image.pk).delete()
    blob_discard(keys=[image.storage_key])
