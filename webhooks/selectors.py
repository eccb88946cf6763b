"""Reads for webhooks. Everything is looked up through an account, except the periodic sweep's scan of due
deliveries, which (like the generation reaper) works across accounts and returns ids only."""

from __future__ import annotations

import json
from datetime import datetime

from generations.models import Generation
from generations.selectors import generation_wire
from tryon_project.api.datetimes import iso_ms
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookTarget
from webhooks.signing import secret_decrypt


def webhook_endpoint_url(*, account_id: int) -> str:
    """The account-level target, or "" when there is none (no endpoint, no URL, or disabled)."""
    url = WebhookEndpoint.objects.filter(account_id=account_id, is_enabled=True).values_list("url", flat=True).first()
    return url or ""


def webhook_signing_secrets(*, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one while its rotation grace period lasts."""
    current = [secret_decrypt(token=endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and expires > now:
        return [*current, secret_decrypt(token=endpoint.previous_secret_encrypted)]
    return current


def webhook_delivery_target_url(*, delivery: WebhookDelivery, generation: Generation) -> str:
    """Where this delivery goes now. The account endpoint is read at every attempt, so fixing its URL in the
    dashboard also fixes the retries (and redeliveries) of events that are still pending."""
    if delivery.target == WebhookTarget.CALL:
        return generation.webhook_url
    return webhook_endpoint_url(account_id=delivery.account_id)


def webhook_event_body(*, delivery: WebhookDelivery, generation: Generation) -> bytes:
    """`{"type", "createdAt", "data"}`, `data` being the generation object as a poll would return it now (so the
    result URL is freshly signed at every attempt, and an erased result is never sent)."""
    payload = {
        "type": delivery.event_type,
        "createdAt": iso_ms(delivery.created_at),
        "data": generation_wire(generation=generation),
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def webhook_deliveries_due(*, now: datetime, limit: int) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
