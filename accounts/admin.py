from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from accounts.admin_scoping import AccountScopedAdmin, is_operator, request_account
from accounts.models import Account, AccountMembership, ApiKey, CreditLedgerEntry
from accounts.services import account_update_settings, api_key_create, api_key_revoke


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin):
    account_path = "pk"
    merchant_can_change = True
    list_display = ("name", "is_active", "credit_balance", "rate_limit_per_minute", "customer_retention_days", "engine")
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
            return ("credit_balance", "created_at", "updated_at")
        return ("name", "is_active", "credit_balance", "rate_limit_per_minute", "engine", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        account_update_settings(account=obj, **{name: form.cleaned_data[name] for name in form.changed_data})


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
            return ("account", "name", "prefix", "created_at", "last_used_at", "revoked_at")
        return ("account", "name") if is_operator(request) else ("name",)

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return ("account", "name", "prefix", "created_at", "last_used_at", "revoked_at")
        return ()

    def save_model(self, request, obj, form, change):
        account = obj.account if is_operator(request) else request_account(request)
        api_key, plain = api_key_create(account=account, name=form.cleaned_data.get("name") or "default")
        obj.pk = api_key.pk
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
class CreditLedgerAdmin(AccountScopedAdmin):
    list_display = (
        "created_at", "account", "kind", "amount", "balance_after", "generation_ref", "reason", "created_by"
    )
    list_filter = ("kind",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
