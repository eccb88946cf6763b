"""Dashboard page for an account's watermark, with a live preview drawn by the same function the worker uses."""

from __future__ import annotations

import functools
import json

from django.contrib import admin
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.admin_scoping import AccountScopedAdmin, is_operator, presented, request_account
from tryon_project.storage import blob_atomic, blob_read, blob_signed_url
from watermark.compositing import WatermarkError, watermark_composite
from watermark.forms import PreviewForm, WatermarkSettingsForm
from watermark.models import WatermarkSettings
from watermark.selectors import watermark_settings_get
from watermark.services import watermark_settings_update

SAMPLE_STATIC_PATH = "watermark/sample-result.jpg"
# How the sample was made (engine, version, inputs, digests), written beside it by scripts/watermark_example.py.
SAMPLE_PROVENANCE_STATIC_PATH = "watermark/sample-result.json"
# A checkerboard behind the logo thumbnail, so white or transparent parts of a logo stay visible.
_CHECKERBOARD = (
    "background:repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 16px 16px;"
    "max-height:80px;max-width:240px;border:1px solid #ccc;padding:4px"
)


def _sample_result() -> bytes:
    location = finders.find(SAMPLE_STATIC_PATH)
    if not location:
        raise Http404("The preview sample is missing.")
    with open(location, "rb") as handle:
        return handle.read()


@functools.cache
def sample_provenance() -> dict[str, object]:
    """The record of the run that made the sample ({} when it is missing: the preview still works). It ships with
    the code and changes only with a release, so it is read once per process."""
    location = finders.find(SAMPLE_PROVENANCE_STATIC_PATH)
    if not location:
        return {}
    with open(location, encoding="utf-8") as handle:
        return json.load(handle)


@admin.register(WatermarkSettings)
class WatermarkSettingsAdmin(AccountScopedAdmin):
    form = WatermarkSettingsForm
    change_form_template = "admin/watermark/watermarksettings/change_form.html"
    merchant_can_add = True
    merchant_can_change = True
    list_display = (
        "__str__",
        "enabled",
        "logo_preview",
        "position",
        "size_pct",
        "opacity_pct",
        "margin_pct",
        "updated_at",
    )
    list_select_related = ("account",)

    class Media:
        css = {"all": ("watermark/preview.css",)}
        js = ("watermark/preview.js",)

    # --- what each user sees --------------------------------------------------------------------------------
    def get_fields(self, request, obj=None):
        settings_fields = ("enabled", "position", "size_pct", "opacity_pct", "margin_pct")
        logo_fields = ("logo_preview", "logo", "remove_logo") if obj and obj.has_logo else ("logo",)
        owner = ("account",) if is_operator(request) else ()
        audit = (presented(WatermarkSettings, "updated_at"), "updated_by") if obj else ()
        return (*owner, *logo_fields, *settings_fields, *audit)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["logo_preview", presented(WatermarkSettings, "updated_at"), "updated_by"]
        if obj:
            readonly.append("account")
        return readonly

    def has_add_permission(self, request) -> bool:
        if not super().has_add_permission(request):
            return False
        # One settings row per account: a merchant that has one edits it.
        return is_operator(request) or watermark_settings_get(account=request_account(request)) is None

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting the row would orphan the stored logo; "Remove logo" and "Enabled" cover every need.
        return False

    def changelist_view(self, request, extra_context=None):
        if is_operator(request) or not self._is_merchant(request):
            return super().changelist_view(request, extra_context)
        # A merchant has at most one row: the list would be one line, so go straight to the form.
        own = watermark_settings_get(account=request_account(request))
        name = "change" if own else "add"
        args = (own.pk,) if own else ()
        return HttpResponseRedirect(reverse(f"admin:watermark_watermarksettings_{name}", args=args))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # One settings row per account: "add another" never applies.
        extra_context = {
            **(extra_context or {}),
            "show_save_and_add_another": False,
            "sample_provenance": sample_provenance(),
        }
        # The admin saves the row, then its relations and change log, in one transaction of its own: if a step
        # after `save_model` fails, the newly stored logo goes with the rollback instead of staying in storage.
        with blob_atomic():
            return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="Current logo")
    def logo_preview(self, obj: WatermarkSettings) -> str:
        if not obj.has_logo:
            return "—"
        return format_html(
            '<img src="{}" alt="current logo" class="watermark-logo" style="{}">',
            blob_signed_url(key=obj.logo_key).url,
            _CHECKERBOARD,
        )

    # --- writes go through the service ------------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        account = obj.account if change or is_operator(request) else request_account(request)
        data = form.cleaned_data
        logo = data.get("logo")
        row = watermark_settings_update(
            account=account,
            logo=logo.data if logo else None,
            remove_logo=bool(data.get("remove_logo")),
            enabled=data["enabled"],
            position=data["position"],
            size_pct=data["size_pct"],
            opacity_pct=data["opacity_pct"],
            margin_pct=data["margin_pct"],
            updated_by=request.user,
        )
        obj.pk, obj.account = row.pk, account

    # --- live preview -------------------------------------------------------------------------------------------
    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.preview_view))
        return [
            path("preview/", preview, name="watermark_watermarksettings_preview"),
            path("<int:object_id>/preview/", preview, name="watermark_watermarksettings_preview_object"),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id: int | None = None) -> HttpResponse:
        """The sample result with the logo drawn as the form currently says (the form is not saved)."""
        if object_id is not None:
            obj = self.get_object(request, str(object_id))  # another account's row: 404
            allowed = self.has_change_permission(request, obj)
        else:
            obj = None
            allowed = self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        form = PreviewForm(request.POST, request.FILES)
        if not form.is_valid():
            messages = [
                f"{form.fields[name].label or name}: {error}" if name in form.fields else str(error)
                for name, errors in form.errors.items()
                for error in errors
            ]
            return JsonResponse({"errors": messages}, status=400)
        sample = _sample_result()
        logo = self._preview_logo(form=form, obj=obj)
        data = form.cleaned_data
        image = sample
        if logo is not None and data["enabled"] and data["opacity_pct"] > 0:
            try:
                image = watermark_composite(
                    image=sample,
                    logo=logo,
                    position=data["position"],
                    size_pct=data["size_pct"],
                    opacity_pct=data["opacity_pct"],
                    margin_pct=data["margin_pct"],
                )
            except WatermarkError as exc:
                return JsonResponse({"errors": [str(exc)]}, status=400)
        response = HttpResponse(image, content_type="image/jpeg")
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _preview_logo(*, form: PreviewForm, obj: WatermarkSettings | None) -> bytes | None:
        uploaded = form.cleaned_data.get("logo")
        if uploaded is not None:
            return uploaded.data
        if obj is None or not obj.has_logo or form.cleaned_data.get("remove_logo"):
            return None
        try:
            return blob_read(key=obj.logo_key)
        except (FileNotFoundError, OSError):
            # The preview then shows what the worker would produce: the result without a logo.
            return None
