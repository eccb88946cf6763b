"""Webhook writes (docs/webhooks.md). `webhooks` sits above `generations`: it renders the generation object and
reads generation rows. The one call the other way is `webhook_events_schedule`, which the generation lifecycle
imports lazily at the moment a generation becomes terminal."""

from webhooks.services.attempts import AttemptOutcome, retry_delay, webhook_delivery_attempt
from webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_secret_rotate,
    webhook_signing_endpoint_ensure,
)
from webhooks.services.events import (
    webhook_deliveries_sweep,
    webhook_delivery_redeliver,
    webhook_delivery_send,
    webhook_events_enqueue,
    webhook_events_schedule,
)

__all__ = [
    "AttemptOutcome",
    "retry_delay",
    "webhook_deliveries_sweep",
    "webhook_delivery_attempt",
    "webhook_delivery_redeliver",
    "webhook_delivery_send",
    "webhook_endpoint_create",
    "webhook_endpoint_update",
    "webhook_events_enqueue",
    "webhook_events_schedule",
    "webhook_secret_rotate",
    "webhook_signing_endpoint_ensure",
]
