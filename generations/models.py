from __future__ import annotations

from django.db import models
from django.db.models import Q

from tryon_project.ids import public_id


def _generation_id() -> str:
    return public_id("gen_")


class GenerationStatus(models.TextChoices):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


TERMINAL_STATUSES = (GenerationStatus.COMPLETED, GenerationStatus.FAILED)


class Generation(models.Model):
    """One try-on. The row is the source of truth; workers claim and finish it with conditional updates.

    Erasure fence: erasing the end user moves an in-flight row to FAILED/CUSTOMER_DATA_DELETED and clears its
    file references; since a worker may only finish a row that is still PROCESSING with its own attempt number,
    a worker that was mid-way can never write a result afterwards."""

    id = models.CharField(primary_key=True, max_length=40, default=_generation_id, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="generations")
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    # What was tried on, frozen at acceptance: editing or deleting the product never rewrites history.
    product_external_id = models.CharField(max_length=255)
    product_snapshot = models.JSONField(default=dict)
    customer_image = models.ForeignKey(
        "customers.CustomerImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    person_image_key = models.CharField(max_length=300, blank=True, default="")
    customer_id = models.CharField(max_length=255, blank=True, default="")
    retention_days = models.PositiveSmallIntegerField(default=7)
    use_watermark = models.BooleanField(default=True)
    is_mock = models.BooleanField(default=False)
    engine = models.CharField(max_length=50, blank=True, default="")
    # Per-call engine options [ext] as the client sent them (seed, quality, garmentPhotoType); {} for defaults.
    engine_options = models.JSONField(default=dict, blank=True)
    # The hosted provider's job/prediction id once one was submitted: a retried attempt resumes it instead of
    # submitting (and paying for) the same try-on again.
    provider_job_id = models.CharField(max_length=200, blank=True, default="")
    webhook_url = models.URLField(max_length=2048, blank=True, default="")

    status = models.CharField(max_length=12, choices=GenerationStatus.choices, default=GenerationStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")

    result_key = models.CharField(max_length=300, blank=True, default="")
    result_expires_at = models.DateTimeField(null=True, blank=True)
    result_deleted = models.BooleanField(default=False)
    timings = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "product_external_id", "created_at"], name="gen_product_stats"),
            models.Index(fields=["account", "customer_id"], name="gen_account_customer"),
            models.Index(fields=["status", "updated_at"], name="gen_status_updated"),
            models.Index(fields=["result_expires_at"], name="gen_result_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="FAILED") | ~Q(error_code=""), name="generation_failed_has_error_code"
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class EngineProviderError(models.Model):
    """The last error a hosted provider returned for one account's engine: what an operator needs to see to fix a
    key, a quota or a model id without reading logs. One row per account and engine, overwritten each time."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="engine_provider_errors")
    engine = models.CharField(max_length=50)
    model_id = models.CharField(max_length=200, blank=True, default="")
    code = models.CharField(max_length=50)
    message = models.CharField(max_length=500)
    retryable = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "engine"], name="engine_provider_error_one_per_engine"),
        ]

    def __str__(self) -> str:
        return f"{self.engine}: {self.code}"
