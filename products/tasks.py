from __future__ import annotations

from celery import shared_task

from products import services


@shared_task(name="products.tasks.product_purge_expired", ignore_result=True)
def product_purge_expired() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): delete expired products and their stored images."""
    return services.product_purge_expired()
