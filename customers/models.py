from __future__ import annotations

from django.db import models
from django.db.models import Q

from tryon_project.ids import public_id


def _image_id() -> str:
    return public_id("img_")


class ImageSource(models.TextChoices):
    UPLOAD = "upload", "POST /images/upload"
    URL = "url", "customer.url on a try-on"
    FILE = "file", "customer.fileKey on a try-on"


class CustomerImage(models.Model):
    """A processed customer (shopper) photo: the `imageId` of the API, kept for its retention window."""

    id = models.CharField(primary_key=True, max_length=40, default=_image_id, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="customer_images")
    # The merchant's end-user id, only to find the data again for erasure. Never logged, never in storage keys.
    customer_id = models.CharField(max_length=255, blank=True, default="")
    source = models.CharField(max_length=10, choices=ImageSource.choices, default=ImageSource.UPLOAD)
    storage_key = models.CharField(max_length=300)
    content_type = models.CharField(max_length=50, default="image/jpeg")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    retention_days = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "customer_id"], name="custimg_account_customer")]
        constraints = [
            models.CheckConstraint(condition=Q(retention_days__in=[1, 3, 7]), name="customer_image_retention_days"),
        ]

    def __str__(self) -> str:
        return self.id
