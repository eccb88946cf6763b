"""Webhook writes (docs/webhooks.md). `webhooks` sits above `generations`: it renders the generation object and
reads generation rows. Generations never call webhooks: `webhook_events_schedule` subscribes to "generation became
terminal" in WebhooksConfig.ready()."""

from webhooks.services.attempts import AttemptOutcome, AttemptStatus, retry_delay, webhook_delivery_attempt
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
    "AttemptStatus",
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
