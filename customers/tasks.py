from __future__ import annotations

from celery import shared_task

from customers.models import BlobDeletion
from customers.services import blob_deletions_process, customer_images_purge_expired


@shared_task(bind=True, name="customers.delete_blobs", max_retries=8)
def blob_deletions_task(self, keys: list[str] | None = None) -> int:
    """Delete scheduled storage objects; retried with backoff while some remain (the periodic run catches the
    rest even if every retry fails)."""
    deleted = blob_deletions_process(keys=keys)
    remaining = BlobDeletion.objects.filter(storage_key__in=keys).exists() if keys is not None else False
    if remaining:
        raise self.retry(countdown=min(600, 10 * 2**self.request.retries))
    return deleted


@shared_task(name="customers.purge_expired")
def customer_images_purge_task() -> int:
    purged = customer_images_purge_expired()
    blob_deletions_process()
    return purged
