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


class BlobDeletion(models.Model):
    """A storage object that must be deleted. Written in the same transaction that forgets the object, so a
    broker outage or a crashed worker can delay the deletion but never lose it (the deletion run retries).
    Every stored object goes through it: customer photos, results, product images (`tryon_project/storage.py`)."""

    storage_key = models.CharField(max_length=300, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table keeps the name it had when the customers app owned it (the model moved, the rows did not).
        db_table = "customers_blobdeletion"

    def __str__(self) -> str:
        return self.storage_key
