"""Dashboard pages for generations (read-only, with before/after thumbnails) and the overview page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin import engine_choices_register, engine_status_register
from accounts.admin_scoping import ReadOnlyScopedAdmin, is_operator, request_account
from accounts.models import Account
from generations.engine_config import engine_names
from generations.models import Generation, GenerationStatus
from generations.selectors import account_engine_status
from tryon_project.storage import blob_signed_url

# Engines are defined here, above accounts: the account page offers exactly the names the registry knows.
engine_choices_register(engine_names)
engine_status_register(lambda account: account_engine_status(account=account))

_STATUS_COLOURS = {
    GenerationStatus.PENDING: "#8a6d00",
    GenerationStatus.PROCESSING: "#1f5f9e",
    GenerationStatus.COMPLETED: "#1e7b34",
    GenerationStatus.FAILED: "#b3261e",
}
_THUMB = "height:{h}px;max-width:{w}px;object-fit:contain;border:1px solid #ccc;border-radius:3px;background:#f4f4f4"


def _image(key: str, *, alt: str, height: int, css_class: str) -> str:
    style = _THUMB.format(h=height, w=height)
    return format_html('<img src="{}" alt="{}" class="{}" loading="lazy" referrerpolicy="no-referrer" style="{}">',
                       blob_signed_url(key=key).url, alt, css_class, style)


def _before_after(generation: Generation, *, height: int) -> str:
    before = (_image(generation.person_image_key, alt="before", height=height, css_class="generation-before")
              if generation.person_image_key else "—")
    has_result = generation.result_key and not generation.result_deleted
    after = (_image(generation.result_key, alt="after", height=height, css_class="generation-after")
             if has_result else "—")
    return format_html('<span style="display:inline-flex;gap:6px;align-items:center">{} → {}</span>', before, after)


@admin.register(Generation)
class GenerationAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "thumbnails", "status_badge", "product_external_id", "created_at", "duration",
                    "error_code", "engine_used")
    list_filter = ("status", "created_at", "error_code", "use_watermark")
    search_fields = ("id", "product_external_id", "customer_id")
    list_select_related = ("account",)
    list_per_page = 50
    ordering = ("-created_at",)
    fieldsets = (
        (None, {"fields": ("id", "status_badge", "images", "product_external_id", "customer_id")}),
        ("Outcome", {"fields": ("error_code", "error_message", "engine_used", "use_watermark", "is_mock",
                                "attempts", "result_expires_at", "result_deleted")}),
        ("Timings", {"fields": ("created_at", "started_at", "completed_at", "duration", "timings_table")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not is_operator(request):
            return fieldsets
        (title, options), *rest = fieldsets
        return ((title, {**options, "fields": ("account", *options["fields"])}), *rest)

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.get_fieldsets(request, obj) for name in options["fields"]]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Generation) -> str:
        colour = _STATUS_COLOURS.get(obj.status, "#444")
        return format_html('<strong class="generation-status" style="color:{}">{}</strong>', colour, obj.status)

    @admin.display(description="Before → after")
    def thumbnails(self, obj: Generation) -> str:
        return _before_after(obj, height=56)

    @admin.display(description="Before → after")
    def images(self, obj: Generation) -> str:
        return _before_after(obj, height=320)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, obj: Generation) -> str:
        return f"{obj.duration_ms / 1000:.1f} s" if obj.duration_ms is not None else "—"

    @admin.display(description="Engine")
    def engine_used(self, obj: Generation) -> str:
        # The engine that ran (recorded with the timings) or, before it ran, the one the account asked for.
        return (obj.timings or {}).get("engine") or obj.engine or "default"

    @admin.display(description="Timings")
    def timings_table(self, obj: Generation) -> str:
        timings = obj.timings or {}
        if not timings:
            return "—"
        return format_html(
            "<table class='generation-timings'>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(timings.items())),
        )

    # --- overview page ------------------------------------------------------------------------------------------
    def get_urls(self):
        overview = self.admin_site.admin_view(self.overview_view)
        return [path("overview/", overview, name="generations_generation_overview"), *super().get_urls()]

    def overview_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        accounts = Account.objects.all() if is_operator(request) else Account.objects.filter(
            pk=getattr(request_account(request), "pk", None))
        chosen = None
        if is_operator(request) and request.GET.get("account", "").isdigit():
            chosen = accounts.filter(pk=int(request.GET["account"])).first()
            accounts = accounts.filter(pk=getattr(chosen, "pk", None))
        generations = self.get_queryset(request).filter(account__in=accounts)
        context = {
            **self.admin_site.each_context(request),
            "title": "Overview",
            "opts": self.model._meta,
            "stats": overview_stats(generations=generations, now=timezone.now()),
            "credits_left": accounts.aggregate(total=Sum("credit_balance"))["total"] or 0,
            "is_operator": is_operator(request),
            "account_choices": Account.objects.order_by("name") if is_operator(request) else (),
            "chosen_account": chosen,
        }
        return TemplateResponse(request, "admin/generations/overview.html", context)


def overview_stats(*, generations: QuerySet[Generation], now) -> dict:
    """Counts for the overview; ``generations`` is already scoped to what the viewer may see."""
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = now - timedelta(days=7)
    week = Q(created_at__gte=week_start)
    completed, failed = Q(status=GenerationStatus.COMPLETED), Q(status=GenerationStatus.FAILED)
    counts = generations.aggregate(
        today=Count("id", filter=Q(created_at__gte=today_start)),
        week=Count("id", filter=week),
        completed=Count("id", filter=week & completed),
        failed=Count("id", filter=week & failed),
        avg_ms=Avg("duration_ms", filter=week & completed),
    )
    finished = counts["completed"] + counts["failed"]
    top_errors = (
        generations.filter(week & failed).values("error_code").annotate(count=Count("id")).order_by("-count")[:5]
    )
    return {
        **counts,
        "success_rate": round(100 * counts["completed"] / finished, 1) if finished else None,
        "avg_seconds": round(counts["avg_ms"] / 1000, 1) if counts["avg_ms"] is not None else None,
        "top_errors": list(top_errors),
    }
