from celery import shared_task

from tryon_project.api.idempotency import idempotency_records_purge


@shared_task(name="platform.purge_idempotency")
def idempotency_purge_task() -> int:
    return idempotency_records_purge()
