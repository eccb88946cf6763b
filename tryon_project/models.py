from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """[ext] One `Idempotency-Key` of one account: the fingerprint of the first request and, once it finished,
    the response to replay. Kept 24 hours."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotency_one_record_per_key")]

    def __str__(self) -> str:
        return self.key
