"""Webhook endpoints, deliveries and attempts (docs/webhooks.md).

A delivery is one event for one target; its id is the `webhook-id` header, so a receiver sees the same id on
every retry and on a manual redelivery. The `(generation, target)` unique constraint makes "exactly once per
target" a database rule rather than a check-then-act in the code."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tryon_project.ids import public_id


def _message_id() -> str:
    return public_id("msg_")


class WebhookTarget(models.TextChoices):
    ENDPOINT = "endpoint", "Account endpoint"
    CALL = "call", "Per-call webhookUrl"


class WebhookEventType(models.TextChoices):
    # Labels are the wire names: the dashboard shows what receivers see in `type`.
    GENERATION_COMPLETED = "generation.completed", "generation.completed"
    GENERATION_FAILED = "generation.failed", "generation.failed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookEndpoint(models.Model):
    """The account's webhook settings and its one signing secret.

    The secret also signs per-call `webhookUrl` deliveries, so a row can exist with an empty URL: it is created
    with a fresh secret the first time an account without one uses `webhookUrl`. The secret is stored encrypted
    (it must be recoverable to sign); after a rotation the previous one keeps signing, next to the new one, until
    `previous_secret_expires_at`."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="webhook_endpoint")
    url = models.URLField(
        "URL",
        max_length=2048,
        blank=True,
        default="",
        help_text="Receives generation.completed and generation.failed events. Empty: no account-level deliveries "
        "(per-call webhookUrl targets are still signed with this endpoint's secret).",
    )
    is_enabled = models.BooleanField("enabled", default=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField("secret created", default=timezone.now, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"Webhook endpoint of {self.account}"


class WebhookDelivery(models.Model):
    id = models.CharField("webhook-id", primary_key=True, max_length=40, default=_message_id, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="webhook_deliveries")
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    target = models.CharField(max_length=10, choices=WebhookTarget.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts made before the latest manual redelivery: the retry schedule restarts from there.
    cycle_start = models.PositiveIntegerField(default=0)
    # While PENDING: when the next attempt is due (a claimed attempt pushes it out by a lease).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=40, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The event time: `createdAt` of the body.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["generation", "target"], name="webhook_delivery_once_per_target"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["account", "created_at"], name="webhook_delivery_account"),
        ]

    def __str__(self) -> str:
        return self.id


class WebhookAttempt(models.Model):
    """One HTTP attempt. Holds no URL and no body: the log shows what happened, not where or what was sent."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=40, blank=True, default="")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]
        verbose_name = "webhook attempt"
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
