"""Dashboard pages for generations: the gallery (the change list drawn as pictures), one generation's page, and
the URLs of the merchant pages built on generations (overview, CSV export, customers, try-on playground), whose
views live in generations/dashboard/."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from accounts.admin import engine_choices_register, engine_status_register
from accounts.admin_display import seconds, when, yes_no
from accounts.admin_scoping import ReadOnlyScopedAdmin, is_operator
from generations.dashboard import customers, display, overview_views, playground
from generations.dashboard.filters import CustomerFilter, DateRangeFilter, EngineFilter, ProductFilter
from generations.dashboard.products import product_panel
from generations.engine_config import engine_names
from generations.models import Generation
from generations.selectors import account_engine_status
from products.admin import product_panel_register

# Engines are defined here, above accounts: the account page offers exactly the names the registry knows.
engine_choices_register(engine_names)
product_panel_register(product_panel)
engine_status_register(lambda account: account_engine_status(account=account))


def customer_url(customer_id: str) -> str:
    return reverse("admin:generations_generation_customer") + "?" + urlencode({"id": customer_id})


@admin.register(Generation)
class GenerationAdmin(ReadOnlyScopedAdmin):
    change_list_template = "admin/generations/generation/change_list.html"
    list_display = ("id", "status_badge", "product", "created_at", "duration", "engine_used")
    list_filter = ("status", ProductFilter, CustomerFilter, EngineFilter, DateRangeFilter, "error_code")
    search_fields = ("id", "product_external_id", "customer_id")
    list_select_related = ("account",)
    list_per_page = 24
    ordering = ("-created_at",)
    fieldsets = (
        (None, {"fields": ("id", "status_badge", "error_text", "pictures", "product", "customer")}),
        (
            "Outcome",
            {"fields": ("engine_used", "watermarked", "made_with_mock", "attempts", "result_expiry", "pictures_gone")},
        ),
        ("Timings", {"fields": ("created", "started", "completed", "duration", "timings_table")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not is_operator(request):
            return fieldsets
        (title, options), *rest = fieldsets
        return ((title, {**options, "fields": ("account", *options["fields"])}), *rest)

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.get_fieldsets(request, obj) for name in options["fields"]]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["gallery_cards"] = [self._card(generation) for generation in context["cl"].result_list]
        return response

    def _card(self, generation: Generation) -> dict:
        return {
            "id": generation.pk,
            "url": reverse("admin:generations_generation_change", args=(quote(generation.pk),)),
            "pictures": display.triptych(generation),
            "product": display.product_label(generation),
            "status": display.status_badge(generation),
            "error": display.error_in_words(generation),
            "engine": display.engine_name(generation),
            "duration": seconds(generation.duration_ms),
            "created": when(generation.created_at),
            "customer": generation.customer_id,
            "customer_url": customer_url(generation.customer_id) if generation.customer_id else "",
            "gone": display.erased_or_expired(generation),
        }

    # --- columns and fields -------------------------------------------------------------------------------------
    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Generation) -> str:
        return display.status_badge(obj)

    @admin.display(description="Error")
    def error_text(self, obj: Generation) -> str:
        return display.error_in_words(obj) or "—"

    @admin.display(description="Person + garment → result")
    def pictures(self, obj: Generation) -> str:
        return display.triptych(obj, size=320)

    @admin.display(description="Product", ordering="product_external_id")
    def product(self, obj: Generation) -> str:
        return display.product_label(obj)

    @admin.display(description="Customer id")
    def customer(self, obj: Generation) -> str:
        if not obj.customer_id:
            return "—"
        return format_html('<a href="{}"><code>{}</code></a>', customer_url(obj.customer_id), obj.customer_id)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, obj: Generation) -> str:
        return seconds(obj.duration_ms)

    @admin.display(description="Engine")
    def engine_used(self, obj: Generation) -> str:
        return display.engine_name(obj)

    @admin.display(description="Watermarked")
    def watermarked(self, obj: Generation) -> str:
        return yes_no(obj.use_watermark)

    @admin.display(description="Made from")
    def made_with_mock(self, obj: Generation) -> str:
        label = "the mock product (free)" if obj.is_mock else "a real engine"
        entry = playground.started_from_dashboard(generation=obj)
        if entry is None:
            return f"{label}, through the API"
        return f"{label}, from the dashboard's try-on playground by {entry.user} on {when(entry.action_time)}"

    @admin.display(description="Result kept until")
    def result_expiry(self, obj: Generation) -> str:
        return when(obj.result_expires_at)

    @admin.display(description="Images")
    def pictures_gone(self, obj: Generation) -> str:
        return display.erased_or_expired(obj) or "stored"

    @admin.display(description="Created")
    def created(self, obj: Generation) -> str:
        return when(obj.created_at)

    @admin.display(description="Started")
    def started(self, obj: Generation) -> str:
        return when(obj.started_at)

    @admin.display(description="Completed")
    def completed(self, obj: Generation) -> str:
        return when(obj.completed_at)

    @admin.display(description="Timings")
    def timings_table(self, obj: Generation) -> str:
        timings = obj.timings or {}
        if not timings:
            return "—"
        return format_html(
            "<table class='generation-timings'>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(timings.items())),
        )

    # --- the merchant pages built on generations ----------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        pages = [
            ("overview/", overview_views.overview_view, "overview"),
            ("export.csv", overview_views.export_view, "export"),
            ("customers/", customers.customer_search_view, "customers"),
            ("customers/view/", customers.customer_view, "customer"),
            ("customers/erase/", customers.customer_erase_view, "customer_erase"),
            ("try-on/", playground.playground_view, "playground"),
            ("try-on/<str:generation_id>/status/", playground.playground_status_view, "playground_status"),
        ]
        own = [
            path(route, view(self._bound(function)), name=f"generations_generation_{name}")
            for route, function, name in pages
        ]
        return [*own, *super().get_urls()]

    def _bound(self, function):
        def page(request, *args, **kwargs):
            return function(self, request, *args, **kwargs)

        page.__name__ = function.__name__
        return page
