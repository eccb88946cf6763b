from __future__ import annotations

from django.contrib import admin
from django.db.models import Prefetch
from django.utils.html import format_html_join

from accounts.admin_scoping import AccountScopedAdmin
from products.models import Product, ProductImage
from products.services import product_delete
from tryon_project.api.errors import ApiError
from tryon_project.storage import blob_signed_url

_THUMB_STYLE = "height:64px;max-width:96px;object-fit:contain;margin-right:4px;border:1px solid #ddd"


def _thumbnail_url(image: ProductImage) -> str:
    """Stored bytes (uploaded, or the cached download) through a short-lived signed URL; else the source URL."""
    key = image.upload_key or image.cached_key
    if key:
        return blob_signed_url(key=key).url
    return image.source_url or ""


def _thumbnails(product: Product) -> str:
    images = [image for image in product.images.all() if _thumbnail_url(image)]
    if not images:
        return "—"
    return format_html_join(
        "",
        '<img src="{}" alt="image {}" loading="lazy" referrerpolicy="no-referrer" style="{}">',
        ((_thumbnail_url(image), image.order, _THUMB_STYLE) for image in images),
    )


@admin.register(Product)
class ProductAdmin(AccountScopedAdmin):
    """Read-only except deletion, which goes through the service so stored images are deleted too."""

    merchant_can_delete = True
    addable_here = False  # products are created through the API only
    list_display = ("external_id", "title", "kind", "category", "images_preview", "expires_at", "created_at")
    list_filter = ("kind", "category")
    search_fields = ("external_id", "title")
    readonly_fields = (
        "account", "external_id", "title", "description", "metadata", "category", "kind", "valid_for_days",
        "last_used_at", "expires_at", "created_at", "updated_at", "images_preview",
    )
    fields = readonly_fields
    list_per_page = 50

    def get_queryset(self, request):
        images = Prefetch("images", queryset=ProductImage.objects.order_by("order", "id"))
        return super().get_queryset(request).select_related("account").prefetch_related(images)

    @admin.display(description="Images")
    def images_preview(self, obj: Product) -> str:
        return _thumbnails(obj)

    def has_change_permission(self, request, obj=None) -> bool:
        # Products are written through the API; the dashboard shows them.
        return False

    def delete_model(self, request, obj: Product) -> None:
        self._delete_one(obj)

    def delete_queryset(self, request, queryset) -> None:
        for product in queryset.select_related("account"):
            self._delete_one(product)

    def _delete_one(self, product: Product) -> None:
        try:
            product_delete(account=product.account, external_id=product.external_id)
        except ApiError:
            # Already expired (the purge will remove it with its images) or deleted concurrently.
            return
