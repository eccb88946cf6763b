from __future__ import annotations

from celery import shared_task

from customers.services import customer_images_purge_expired


@shared_task(name="customers.purge_expired")
def customer_images_purge_task() -> int:
    """Periodic: forget expired customer photos (their objects go to the deletion queue)."""
    return customer_images_purge_expired()
