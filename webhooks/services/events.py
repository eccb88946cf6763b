"""Turning a terminal generation into deliveries, and (re)sending delivery tasks."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from generations.models import Generation, GenerationStatus
from tryon_project.enqueue import task_enqueue
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEventType, WebhookTarget
from webhooks.selectors import webhook_deliveries_due, webhook_endpoint_url
from webhooks.services.endpoints import webhook_signing_endpoint_ensure

logger = logging.getLogger("tryon.webhooks")

_EVENT_TYPES = {
    GenerationStatus.COMPLETED: WebhookEventType.GENERATION_COMPLETED,
    GenerationStatus.FAILED: WebhookEventType.GENERATION_FAILED,
}


def webhook_delivery_send(*, delivery_id: str, countdown: float = 0) -> None:
    """Send the delivery task. If the broker is down the row stays due and the periodic sweep sends it later."""
    task_enqueue(name="webhooks.deliver", args=(delivery_id,), countdown=countdown or None, recovery="the sweep")


def webhook_events_schedule(*, generation_id: str, account_id: int, webhook_url: str) -> None:
    """Subscribed to generations becoming terminal (WebhooksConfig.ready()); called inside the transaction that
    made the generation terminal. The deliveries are the outbox: written in that transaction, so the event
    exists exactly when the status change does; their tasks are sent after commit, and the periodic sweep sends
    any the process did not get to (it crashed between the commit and the send, or the broker was down).

    Nothing at all is scheduled for an account without a webhook target, so a client that does not use webhooks
    costs one indexed read here and sees no difference. A webhook problem must never break the generation
    pipeline that is finishing: the writes run in a savepoint, and a failure is logged and rolled back alone."""
    if not webhook_url and not webhook_endpoint_url(account_id=account_id):
        return
    try:
        with transaction.atomic():
            webhook_events_enqueue(generation_id=generation_id)
    except Exception:
        logger.exception("webhook event of a terminal generation could not be written")


def webhook_events_enqueue(*, generation_id: str) -> list[str]:
    """Create the generation's event for each target (exactly once: the unique constraint on (generation,
    target) absorbs repeated calls) and send the new deliveries after commit. Inside a caller's transaction it
    runs in a savepoint and reads the generation as that transaction left it. Returns the new delivery ids."""
    generation = Generation.objects.filter(id=generation_id).only("id", "account_id", "status", "webhook_url").first()
    if generation is None or generation.status not in _EVENT_TYPES:
        return []
    targets = _targets(generation=generation)
    if WebhookTarget.CALL in targets:
        webhook_signing_endpoint_ensure(account_id=generation.account_id)
    now = timezone.now()
    created: list[str] = []
    with transaction.atomic():
        for target in targets:
            delivery, was_created = WebhookDelivery.objects.get_or_create(
                generation_id=generation.id,
                target=target,
                defaults={
                    "account_id": generation.account_id,
                    "event_type": _EVENT_TYPES[GenerationStatus(generation.status)],
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
            if was_created:
                created.append(delivery.id)
        for delivery_id in created:
            transaction.on_commit(lambda delivery_id=delivery_id: webhook_delivery_send(delivery_id=delivery_id))
    return created


def _targets(*, generation: Generation) -> list[WebhookTarget]:
    endpoint_url = webhook_endpoint_url(account_id=generation.account_id)
    targets = [WebhookTarget.ENDPOINT] if endpoint_url else []
    # A per-call URL equal to the endpoint's would receive the same event twice under two ids: send it once.
    if generation.webhook_url and generation.webhook_url != endpoint_url:
        targets.append(WebhookTarget.CALL)
    return targets


def webhook_delivery_redeliver(*, account: Account, delivery_id: str) -> bool:
    """Send this account's delivery again now, with the same webhook-id and a fresh retry schedule (whatever its
    state: receivers de-duplicate on the id). False when the account has no such delivery."""
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(id=delivery_id, account=account).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            cycle_start=F("attempts"),
            updated_at=timezone.now(),
        )
        if updated:
            transaction.on_commit(lambda: webhook_delivery_send(delivery_id=delivery_id))
    return bool(updated)


def webhook_deliveries_sweep(*, limit: int = 500) -> dict[str, int]:
    """The periodic safety net and long-delay scheduler: sends every due delivery (retries too far out for a
    broker countdown, tasks lost while the broker was down, attempts whose worker died), and drops finished
    delivery logs older than TRYON_WEBHOOK_LOG_DAYS."""
    now = timezone.now()
    due = webhook_deliveries_due(now=now, limit=limit)
    for delivery_id in due:
        webhook_delivery_send(delivery_id=delivery_id)
    _, purged = (
        WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING)
        .filter(created_at__lt=now - timedelta(days=settings.TRYON_WEBHOOK_LOG_DAYS))
        .delete()
    )
    return {"sent": len(due), "purged": purged.get(WebhookDelivery._meta.label, 0)}
