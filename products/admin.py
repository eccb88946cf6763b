"""Dashboard page for products: read-only (the API writes them), deletion through the same service as the API.
The page shows each image (stored bytes through a signed URL, or "not downloaded yet"), the lifetime in words and
a statistics panel that the generations app provides through :func:`product_panel_register`."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin_display import expiry_in_words, when
from accounts.admin_scoping import AccountScopedAdmin, is_operator
from products.models import Product, ProductImage
from products.services import product_delete
from tryon_project.api.errors import ApiError
from tryon_project.storage import blob_signed_url

_THUMB = (
    "height:{h}px;width:{h}px;object-fit:contain;margin-right:6px;border:1px solid #ddd;border-radius:3px;"
    "background:#f4f4f4"
)
_MISSING = (
    "display:inline-flex;align-items:center;justify-content:center;text-align:center;height:{h}px;"
    "width:{h}px;margin-right:6px;border:1px dashed #ccc;border-radius:3px;font-size:11px;color:#777;"
    "vertical-align:top;padding:4px;box-sizing:border-box"
)

# Generations sit above the catalog: they hand in the statistics panel (see generations/admin.py).
_panel: Callable[..., str] | None = None


def product_panel_register(provider: Callable[..., str]) -> None:
    global _panel
    _panel = provider


def _image(image: ProductImage, *, height: int) -> str:
    """Stored bytes (uploaded, or the cached download) through a short-lived signed URL. A URL the worker has not
    downloaded yet is not hot-linked (the dashboard loads nothing from other hosts): it says so, with the URL."""
    key = image.upload_key or image.cached_key
    if key:
        return format_html(
            '<img src="{}" alt="product image {}" class="product-image" loading="lazy" '
            'referrerpolicy="no-referrer" style="{}">',
            blob_signed_url(key=key).url,
            image.order + 1,
            _THUMB.format(h=height),
        )
    return format_html(
        '<span class="product-image-missing" title="{}" style="{}">not downloaded yet</span>',
        image.source_url or "",
        _MISSING.format(h=height),
    )


def _thumbnails(product: Product, *, height: int) -> str:
    images = list(product.images.all())
    if not images:
        return "—"
    return format_html_join("", "{}", ((_image(image, height=height),) for image in images))


@admin.register(Product)
class ProductAdmin(AccountScopedAdmin):
    """Read-only except deletion, which goes through the service so stored images are deleted too."""

    merchant_can_delete = True
    addable_here = False  # products are created through the API only
    list_display = ("title_or_id", "external_id", "kind", "category", "images_preview", "expiry", "created_at")
    list_filter = ("kind", "category")
    search_fields = ("external_id", "title")
    readonly_fields = (
        "account",
        "external_id",
        "title",
        "description",
        "metadata",
        "category",
        "kind",
        "images_large",
        "lifetime",
        "expiry",
        "last_used",
        "created",
        "updated",
        "statistics",
    )
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("external_id", "title", "images_large", "lifetime", "expiry")}),
        ("Statistics", {"fields": ("statistics",)}),
        ("Details", {"fields": ("description", "metadata", "category", "kind", "last_used", "created", "updated")}),
    )

    def get_fieldsets(self, request, obj=None):
        if not is_operator(request):
            return self.fieldsets
        (title, options), *rest = self.fieldsets
        return ((title, {**options, "fields": ("account", *options["fields"])}), *rest)

    def get_queryset(self, request):
        images = Prefetch("images", queryset=ProductImage.objects.order_by("order", "id"))
        return super().get_queryset(request).select_related("account").prefetch_related(images)

    @admin.display(description="Title", ordering="title")
    def title_or_id(self, obj: Product) -> str:
        return obj.title or obj.external_id

    @admin.display(description="Images")
    def images_preview(self, obj: Product) -> str:
        return _thumbnails(obj, height=72)

    @admin.display(description="Images")
    def images_large(self, obj: Product) -> str:
        return _thumbnails(obj, height=200)

    @admin.display(description="Lifetime")
    def lifetime(self, obj: Product) -> str:
        if obj.valid_for_days is None:
            return "kept until deleted"
        return f"{obj.valid_for_days} day(s) after its last use"

    @admin.display(description="Expires", ordering="expires_at")
    def expiry(self, obj: Product) -> str:
        return expiry_in_words(obj.expires_at, now=timezone.now())

    @admin.display(description="Last used")
    def last_used(self, obj: Product) -> str:
        return when(obj.last_used_at)

    @admin.display(description="Created")
    def created(self, obj: Product) -> str:
        return when(obj.created_at)

    @admin.display(description="Updated")
    def updated(self, obj: Product) -> str:
        return when(obj.updated_at)

    @admin.display(description="Statistics")
    def statistics(self, obj: Product) -> str:
        return _panel(product=obj) if _panel is not None else "—"

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
