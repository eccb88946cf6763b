from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account

ANON_PREFIX = "_anon_"
EXTERNAL_ID_MAX_LENGTH = 255
SOURCE_URL_MAX_LENGTH = 2048


class ProductKind(models.TextChoices):
    """How the product came to exist; decides its default lifetime and whether it is listed."""

    CATALOG = "catalog", "Catalog (POST /products)"
    INLINE = "inline", "Inline (created by a try-on)"
    ONE_SHOT = "one_shot", "One-shot (no external id)"


class ProductCategory(models.TextChoices):
    TOPS = "tops", "Tops"
    BOTTOMS = "bottoms", "Bottoms"
    DRESSES = "dresses", "Dresses"
    OUTERWEAR = "outerwear", "Outerwear"
    AUTO = "auto", "Auto (inferred from title and description)"


LISTED_KINDS = (ProductKind.CATALOG, ProductKind.INLINE)


class Product(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    # NULL means "never sent": the product object shows explicit nulls (docs/products.md).
    title = models.TextField(null=True, blank=True)  # noqa: DJ001
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    metadata = models.JSONField(null=True, blank=True)
    category = models.CharField(max_length=16, choices=ProductCategory.choices, default=ProductCategory.AUTO)
    kind = models.CharField(max_length=16, choices=ProductKind.choices, default=ProductKind.CATALOG)
    valid_for_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: kept forever.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Denormalised (last_used_at or created_at) + valid_for_days, kept by the services, so that "expired means
    # absent" is one indexed comparison in every read and in the purge.
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The arbiter of concurrent upserts: one row per (account, external id), whatever the interleaving.
            models.UniqueConstraint(fields=["account", "external_id"], name="product_unique_external_id"),
            models.CheckConstraint(
                condition=Q(valid_for_days__isnull=True) | Q(valid_for_days__gte=1, valid_for_days__lte=365),
                name="product_valid_for_days_range",
            ),
        ]
        indexes = [
            # GET /products: keyset pages over listed kinds only, so one-shot products (one per anonymous
            # try-on, possibly many) never lengthen a catalog page scan.
            models.Index(
                fields=["account", "-created_at", "-id"],
                condition=Q(kind__in=LISTED_KINDS),
                name="product_list_idx",
            ),
            models.Index(fields=["expires_at"], condition=Q(expires_at__isnull=False), name="product_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class ProductImage(models.Model):
    """One image of a product: a source URL (downloaded by the worker, then cached) or uploaded bytes."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    order = models.PositiveSmallIntegerField()
    source_url = models.CharField(max_length=SOURCE_URL_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    # Uploaded bytes: the storage key stays internal; clients see `upload://<upload_ref>` instead.
    upload_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    upload_ref = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # The processed copy of a URL image, written once by the first generation that needs it.
    cached_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(source_url__isnull=False, upload_key__isnull=True, upload_ref__isnull=True)
                    | Q(source_url__isnull=True, upload_key__isnull=False, upload_ref__isnull=False)
                ),
                name="product_image_url_xor_upload",
            ),
        ]
        indexes = [models.Index(fields=["product", "order"], name="product_image_order_idx")]

    def __str__(self) -> str:
        return f"image {self.order}"

    @property
    def public_source_url(self) -> str:
        """`sourceUrl` on the wire: the supplied URL, or an opaque reference for uploaded bytes."""
        return self.source_url if self.source_url is not None else f"upload://{self.upload_ref}"
