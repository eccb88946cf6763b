from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_display import when
from accounts.admin_scoping import AccountScopedAdmin, ReadOnlyScopedAdmin, is_operator, presented, request_account
from accounts.models import Account, AccountMembership, ApiKey, CreditLedgerEntry
from accounts.services import (
    CreditError,
    account_create,
    account_update_settings,
    api_key_create,
    api_key_revoke,
    credits_topup,
)
from accounts.time_zones import DEFAULT_TIME_ZONE, time_zone_names, time_zone_validate

# Engines live in the generations app, above this one, so it hands its names in (see generations/admin.py)
# rather than accounts importing upwards.
_engine_names: Callable[[], Iterable[str]] = tuple


# The same for the operator view of an account's engine (model id, licence, last provider error).
_engine_status: Callable[[Account], object] | None = None


def engine_status_register(provider: Callable[[Account], object]) -> None:
    global _engine_status
    _engine_status = provider


def engine_choices_register(provider: Callable[[], Iterable[str]]) -> None:
    global _engine_names
    _engine_names = provider


def _engine_field(current: str) -> forms.ChoiceField:
    names = list(_engine_names())
    if current and current not in names:
        # Keep an engine that is no longer registered selectable, so saving other fields does not change it.
        names.append(current)
    return forms.ChoiceField(
        choices=[("", "Server default (TRYON_ENGINE)"), *((name, name) for name in names)],
        required=False,
        help_text="The engine this account's generations run on.",
    )


def _time_zone_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[(name, name.replace("_", " ")) for name in time_zone_names()],
        initial=DEFAULT_TIME_ZONE,
        validators=[time_zone_validate],
        label="Time zone",
        help_text="The dashboard shows this account's times, days and exports in this zone, with its name.",
    )


class CreditTopupForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Credits to add; a negative number removes credits (never below zero).",
    )
    reason = forms.CharField(max_length=500, help_text="Recorded in the ledger with your user name.")

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("A top-up must change the balance.")
        return amount


# Access is by account membership, not by permission groups: the Groups page would only mislead.
admin.site.unregister(Group)


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin):
    account_path = "pk"
    merchant_can_change = True
    list_display = (
        "name",
        "is_active",
        "credit_balance",
        "rate_limit_per_minute",
        "customer_retention_days",
        "time_zone",
        "engine",
    )
    search_fields = ("name",)

    def get_queryset(self, request):
        queryset = super(AccountScopedAdmin, self).get_queryset(request)
        if is_operator(request):
            return queryset
        account = request_account(request)
        return queryset.filter(pk=getattr(account, "pk", None))

    def get_readonly_fields(self, request, obj=None):
        if is_operator(request):
            # The balance only moves through the ledger (top-ups, reserves, refunds).
            return (
                "credit_balance",
                "engine_status",
                presented(Account, "created_at"),
                presented(Account, "updated_at"),
            )
        return (
            "name", presented(Account, "is_active"), "credit_balance", "rate_limit_per_minute", "engine",
            "engine_status", presented(Account, "created_at"), presented(Account, "updated_at"),
        )  # fmt: skip

    @admin.display(description="Engine status")
    def engine_status(self, obj: Account | None) -> str:
        """Which engine and model the account's generations use, under which licence, and the provider's last
        error (a spent quota, a refused key, a retired model id): what to fix without reading logs."""
        if obj is None or obj.pk is None or _engine_status is None:
            return "-"
        status = _engine_status(obj)
        error = status.last_error
        last = (
            format_html("{} at {}: {}", error.code, when(error.occurred_at), error.message)
            if error is not None
            else "none"
        )
        return format_html(
            "{} (model {}; licence: {})<br>Last provider error: {}",
            status.engine,
            status.model_id,
            status.licence,
            last,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "engine" in form.base_fields:
            form.base_fields["engine"] = _engine_field(obj.engine if obj else "")
        if "time_zone" in form.base_fields:
            form.base_fields["time_zone"] = _time_zone_field()
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = account_create(
                name=data["name"],
                rate_limit_per_minute=data.get("rate_limit_per_minute"),
                customer_retention_days=data.get("customer_retention_days"),
                time_zone=data.get("time_zone") or DEFAULT_TIME_ZONE,
                created_by=request.user,
            )
            account_update_settings(account=created, engine=data.get("engine", ""), is_active=data.get("is_active"))
            obj.pk = created.pk
            return
        account_update_settings(account=obj, **{name: data[name] for name in form.changed_data})

    # --- staff credit top-ups -----------------------------------------------------------------------------------
    def get_urls(self):
        topup = self.admin_site.admin_view(self.topup_view)
        return [path("<int:object_id>/topup/", topup, name="accounts_account_topup"), *super().get_urls()]

    def topup_view(self, request, object_id: int):
        """Add or remove credits: a ledger entry that records who did it and why. Staff only."""
        # Scoped lookup first: another account's id is a 404 like every other URL, one's own account a 403.
        account = self.get_object(request, str(object_id))
        if not is_operator(request):
            raise PermissionDenied
        form = CreditTopupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = credits_topup(
                    account=account,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    created_by=request.user,
                )
            except CreditError as exc:
                form.add_error("amount", str(exc))
            else:
                self.message_user(request, f"{entry.amount:+d} credits for {account}; balance {entry.balance_after}.")
                return HttpResponseRedirect(reverse("admin:accounts_account_change", args=(account.pk,)))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Top up credits: {account}",
            "opts": self.model._meta,
            "original": account,
            "form": form,
        }
        return TemplateResponse(request, "admin/accounts/account/topup.html", context)


_API_KEY_SHOWN = (
    "account",
    "name",
    "prefix",
    *(presented(ApiKey, name) for name in ("created_at", "last_used_at", "revoked_at")),
)


@admin.register(ApiKey)
class ApiKeyAdmin(AccountScopedAdmin):
    merchant_can_add = True
    list_display = ("name", "key_prefix", "account", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    actions = ("revoke_keys",)
    fields = ("account", "name")

    @admin.display(description="Key")
    def key_prefix(self, obj: ApiKey) -> str:
        return format_html("<code>{}…</code>", obj.prefix)

    def get_fields(self, request, obj=None):
        if obj:
            return _API_KEY_SHOWN
        return ("account", "name") if is_operator(request) else ("name",)

    def get_readonly_fields(self, request, obj=None):
        return _API_KEY_SHOWN if obj else ()

    def save_model(self, request, obj, form, change):
        account = obj.account if is_operator(request) else request_account(request)
        api_key, plain = api_key_create(account=account, name=form.cleaned_data.get("name") or "default")
        obj.pk, obj.prefix, obj.account = api_key.pk, api_key.prefix, account
        messages.warning(
            request,
            format_html("New API key (shown only once, copy it now): <code id='new-api-key'>{}</code>", plain),
        )

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.")

    def has_revoke_keys_permission(self, request) -> bool:
        return is_operator(request) or self._is_merchant(request)


@admin.register(CreditLedgerEntry)
class CreditLedgerAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "kind", "amount", "balance_after", "generation_ref", "reason")
    list_filter = ("kind",)
    search_fields = ("generation_ref", "reason")
    list_select_related = ("account", "created_by")

    def get_list_display(self, request):
        # Which staff member made a top-up is an operator matter (the base adds the account column).
        display = super().get_list_display(request)
        return (*display, "created_by") if is_operator(request) else display

    def get_fields(self, request, obj=None):
        fields = (
            "kind",
            "amount",
            "balance_after",
            "generation_ref",
            "reason",
            presented(CreditLedgerEntry, "created_at"),
        )
        # Which staff member made a top-up is an operator matter; merchants see the reason.
        return ("account", *fields, "created_by") if is_operator(request) else fields


@admin.register(AccountMembership)
class AccountMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "account", "created_at")

    def has_module_permission(self, request) -> bool:
        return is_operator(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request) -> bool:
        return is_operator(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_operator(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_operator(request)
