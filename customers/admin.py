"""Dashboard page for customer uploads: read-only, with a thumbnail and when each photo expires."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_display import expiry_in_words, when, yes_no
from accounts.admin_scoping import ReadOnlyScopedAdmin, is_operator
from customers.models import CustomerImage
from tryon_project.storage import blob_signed_url

_THUMB = "height:{h}px;max-width:{h}px;object-fit:contain;border:1px solid #ccc;border-radius:3px"


@admin.register(CustomerImage)
class CustomerImageAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "id",
        "thumbnail",
        "source",
        "customer_id",
        "dimensions",
        "retention_days",
        "expiry",
        "is_expired",
        "uploaded",
    )
    list_filter = ("source", "retention_days")
    search_fields = ("id", "customer_id")
    list_select_related = ("account",)
    list_per_page = 50
    fields = (
        "id",
        "preview",
        "source",
        "customer_id",
        "dimensions",
        "content_type",
        "retention_days",
        "expiry",
        "is_expired",
        "uploaded",
    )

    def get_fields(self, request, obj=None):
        return ("account", *self.fields) if is_operator(request) else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def _img(self, obj: CustomerImage, *, height: int) -> str:
        if not obj.storage_key:
            return "—"
        return format_html(
            '<img src="{}" alt="upload {}" loading="lazy" referrerpolicy="no-referrer" style="{}">',
            blob_signed_url(key=obj.storage_key).url,
            obj.id,
            _THUMB.format(h=height),
        )

    @admin.display(description="Photo")
    def thumbnail(self, obj: CustomerImage) -> str:
        return self._img(obj, height=96)

    @admin.display(description="Photo")
    def preview(self, obj: CustomerImage) -> str:
        return self._img(obj, height=320)

    @admin.display(description="Size")
    def dimensions(self, obj: CustomerImage) -> str:
        return f"{obj.width} x {obj.height}"

    @admin.display(description="Expired")
    def is_expired(self, obj: CustomerImage) -> str:
        return yes_no(obj.expires_at <= timezone.now())

    @admin.display(description="Deleted", ordering="expires_at")
    def expiry(self, obj: CustomerImage) -> str:
        return expiry_in_words(obj.expires_at)

    @admin.display(description="Uploaded", ordering="created_at")
    def uploaded(self, obj: CustomerImage) -> str:
        return when(obj.created_at)
