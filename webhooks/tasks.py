"""Celery tasks: each fetches by id and calls a service (docs/architecture.md)."""

from __future__ import annotations

from celery import shared_task

from webhooks.services import webhook_deliveries_sweep, webhook_delivery_attempt


@shared_task(name="webhooks.deliver", acks_late=True, reject_on_worker_lost=True)
def webhook_deliver(delivery_id: str) -> str:
    # Retries are not Celery retries: the service records each attempt and schedules the next one itself, so the
    # schedule survives worker restarts and is visible in the dashboard.
    return webhook_delivery_attempt(delivery_id=delivery_id).status


@shared_task(name="webhooks.sweep")
def webhook_sweep_task() -> dict[str, int]:
    return webhook_deliveries_sweep()
