"""Dashboard: the account's webhook endpoint (secret shown once, rotatable) and the delivery log with a manual
redeliver. Scoped like every dashboard page (accounts/admin_scoping.py); writes go through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.admin_scoping import AccountScopedAdmin, is_operator, presented, request_account
from tryon_project.http_fetch import FetchError, url_validate
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookTarget
from webhooks.selectors import webhook_endpoint_url
from webhooks.services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from webhooks.services.test_event import webhook_test_event_send


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=2048,
        required=False,
        assume_scheme="https",
        widget=AdminURLFieldWidget,
        help_text=format_html(
            "{} Only public addresses on ports 80 and 443 are accepted. To point it at a machine on a private "
            "network (a test receiver, an internal service), the server's operator adds that network to "
            "<code>TRYON_FETCH_ALLOW_NETWORKS</code> (for example <code>192.168.1.0/24</code>) and, for another "
            "port, the port to <code>TRYON_FETCH_ALLOWED_PORTS</code>; see docs/webhooks.md.",
            WebhookEndpoint._meta.get_field("url").help_text,
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("account", "url", "is_enabled")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if url:
            # Checked without connecting: a URL the fetcher would refuse is never saved, so never contacted.
            try:
                url_validate(url=url)
            except FetchError as exc:
                raise forms.ValidationError(str(exc), code=exc.reason) from None
        return url


def _show_secret_once(request, *, secret: str, account) -> None:
    messages.warning(
        request,
        format_html(
            "Webhook signing secret for {} (shown only once, copy it now): <code class='new-webhook-secret'>{}</code>",
            account,
            secret,
        ),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AccountScopedAdmin):
    form = WebhookEndpointForm
    merchant_can_add = True
    merchant_can_change = True
    list_display = ("__str__", "url", "is_enabled", "secret_rotated_at", "updated_at")
    actions = ("rotate_secret",)

    def get_fields(self, request, obj=None):
        return ("account", "url", "is_enabled") if is_operator(request) and obj is None else ("url", "is_enabled")

    def get_readonly_fields(self, request, obj=None):
        return (
            tuple(presented(WebhookEndpoint, name) for name in ("secret_rotated_at", "created_at", "updated_at"))
            if obj
            else ()
        )

    def get_list_display(self, request):
        display = super().get_list_display(request)
        # For operators the account column names the row; the endpoint's own label would repeat it.
        return tuple(name for name in display if name != "__str__") if is_operator(request) else display

    def has_add_permission(self, request) -> bool:
        # One endpoint per account: a merchant adds it once, then edits it.
        if not super().has_add_permission(request):
            return False
        account = request_account(request)
        return is_operator(request) or not WebhookEndpoint.objects.filter(account=account).exists()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(endpoint=obj, url=data["url"], is_enabled=data["is_enabled"])
            return
        account = data["account"] if is_operator(request) else request_account(request)
        endpoint, secret = webhook_endpoint_create(account=account, url=data["url"], is_enabled=data["is_enabled"])
        # The admin logs and redirects with this object: make it the row the service created.
        obj.pk, obj.account, obj.secret_encrypted = endpoint.pk, account, endpoint.secret_encrypted
        _show_secret_once(request, secret=secret, account=account)

    @admin.action(description="Rotate the signing secret (shows the new one once)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset.select_related("account"):
            _show_secret_once(request, secret=webhook_secret_rotate(endpoint=endpoint), account=endpoint.account)

    def has_rotate_secret_permission(self, request) -> bool:
        return is_operator(request) or self._is_merchant(request)

    # --- "Send test event" --------------------------------------------------------------------------------------
    change_form_template = "admin/webhooks/webhookendpoint/change_form.html"

    def get_urls(self):
        send = self.admin_site.admin_view(require_POST(self.test_event_view))
        return [
            path("<int:object_id>/test-event/", send, name="webhooks_webhookendpoint_test_event"),
            *super().get_urls(),
        ]

    def test_event_view(self, request, object_id: int):
        """Sends a signed `test` event now and shows the attempt (POST only: it contacts the receiver)."""
        endpoint = self.get_object(request, str(object_id))  # another account's endpoint: 404
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        attempt = webhook_test_event_send(endpoint=endpoint)
        context = {
            **self.admin_site.each_context(request),
            "title": "Test event",
            "opts": self.model._meta,
            "original": endpoint,
            "attempt": attempt,
            "body": attempt.body.decode("utf-8"),
        }
        return TemplateResponse(request, "admin/webhooks/webhookendpoint/test_event.html", context)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = (
        "number",
        presented(WebhookAttempt, "started_at"),
        "status_code",
        "latency_ms",
        "error",
        presented(WebhookAttempt, "succeeded"),
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    # The parent page is already scoped to the merchant's account; the attempts shown are that delivery's.
    def has_view_permission(self, request, obj=None) -> bool:
        return is_operator(request) or request_account(request) is not None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AccountScopedAdmin):
    addable_here = False  # deliveries are made by events, never by hand
    list_display = (
        "id",
        "event_type",
        "target",
        "generation_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type", "target")
    search_fields = ("id", "generation__id")
    fields = (
        "id",
        "event_type",
        "generation",
        "target",
        "target_url",
        "status",
        "attempts",
        presented(WebhookDelivery, "next_attempt_at"),
        "last_status_code",
        "last_error",
        presented(WebhookDelivery, "delivered_at"),
        presented(WebhookDelivery, "created_at"),
    )
    readonly_fields = fields
    inlines = (WebhookAttemptInline,)
    actions = ("redeliver",)
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "generation")

    @admin.display(description="Target URL")
    def target_url(self, obj: WebhookDelivery) -> str:
        if obj.target == WebhookTarget.CALL:
            # Erasure clears the per-call URL with the end user's data: the log keeps no copy of its own.
            return obj.generation.webhook_url or "— (erased with the end user's data)"
        return webhook_endpoint_url(account_id=obj.account_id) or "— (no enabled endpoint URL)"

    @admin.action(description="Redeliver now (same webhook-id)")
    def redeliver(self, request, queryset):
        sent = sum(
            webhook_delivery_redeliver(account=delivery.account, delivery_id=delivery.id)
            for delivery in queryset.select_related("account")
        )
        self.message_user(request, f"{sent} delivery(ies) queued for redelivery.")

    def has_redeliver_permission(self, request) -> bool:
        return is_operator(request) or self._is_merchant(request)
