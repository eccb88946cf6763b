from celery import shared_task

from tryon_project.api.idempotency import idempotency_records_purge
from tryon_project.storage import DELETE_TASK, blob_deletions_pending, blob_deletions_process


@shared_task(name="platform.purge_idempotency")
def idempotency_purge_task() -> int:
    return idempotency_records_purge()


@shared_task(bind=True, name=DELETE_TASK, max_retries=8)
def blob_deletions_task(self, keys: list[str] | None = None) -> int:
    """Delete scheduled storage objects: the given `keys` (sent after the transaction that scheduled them), retried
    with backoff while some remain; without keys (the periodic run), whatever is scheduled."""
    deleted = blob_deletions_process(keys=keys)
    if keys is not None and blob_deletions_pending(keys=keys):
        raise self.retry(countdown=min(600, 10 * 2**self.request.retries))
    return deleted
