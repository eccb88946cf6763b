"""Tenant scoping for the dashboard (Django admin).

Staff (superusers) see every account. A merchant user (is_staff, not superuser, with an AccountMembership) sees
and changes only its own account's rows: querysets, related-field choices and direct URLs are all scoped, and
another account's object answers 404 (never a redirect that would confirm it exists)."""

from __future__ import annotations

import functools

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import Http404

from accounts.admin_display import when, yes_no
from accounts.selectors import account_for_user


def request_account(request):
    cached = getattr(request, "_dashboard_account", None)
    if cached is None:
        cached = account_for_user(user=request.user)
        request._dashboard_account = cached
    return cached


def is_operator(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


@functools.cache
def presented(model, name):
    """A model boolean or time field drawn by the dashboard's helpers (yes/no words, times with their zone), for
    list columns and read-only fields; anything else as is. Cached, so the same callable can be named both in
    ``fields`` and in ``readonly_fields``."""
    if not isinstance(name, str):
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a method or callable the admin resolves itself
        return name
    if isinstance(field, models.BooleanField):
        show = yes_no
    elif isinstance(field, models.DateTimeField):
        show = when
    else:
        return name

    @admin.display(description=field.verbose_name[:1].upper() + field.verbose_name[1:], ordering=name)
    def column(obj):
        return show(getattr(obj, name))

    column.__name__ = name
    return column


class AccountScopedAdmin(admin.ModelAdmin):
    #: ORM path from the model to its Account.
    account_path = "account"
    #: What a merchant may do besides viewing.
    merchant_can_add = False
    merchant_can_change = False
    merchant_can_delete = False
    #: False for rows only the API or the system creates (products, deliveries): nobody gets an add form, since
    #: an empty one could only crash on the rows' required account and data.
    addable_here = True

    def _is_merchant(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and request_account(request) is not None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_operator(request):
            return queryset
        account = request_account(request)
        if account is None:
            return queryset.none()
        return queryset.filter(**{self.account_path: account})

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Not found.")
        return obj

    def get_list_display(self, request):
        """Operators see several accounts, so they get an account column; merchants never see one. Model
        booleans and times become neutral words and times with their zone (accounts/admin_display.py)."""
        display = tuple(presented(self.model, name) for name in super().get_list_display(request) if name != "account")
        return ("account", *display) if is_operator(request) and self.account_path == "account" else display

    def get_list_filter(self, request):
        # The account filter lists every account's name: operators only.
        filters = tuple(name for name in super().get_list_filter(request) if name != "account")
        return ("account", *filters) if is_operator(request) and self.account_path == "account" else filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not is_operator(request):
            account = request_account(request)
            related = db_field.related_model
            if related._meta.label == "accounts.Account":
                kwargs["queryset"] = related.objects.filter(pk=getattr(account, "pk", None))
            elif hasattr(related, "account"):
                kwargs["queryset"] = related.objects.filter(account=account)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return is_operator(request) or self._is_merchant(request)

    def changelist_view(self, request, extra_context=None):
        # The list is titled by what it holds ("Generations"), not Django's "Select generation to change".
        title = str(self.model._meta.verbose_name_plural)
        extra_context = {"title": title[:1].upper() + title[1:], **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_operator(request) or self._is_merchant(request)

    def has_add_permission(self, request) -> bool:
        if not self.addable_here:
            return False
        return is_operator(request) or (self.merchant_can_add and self._is_merchant(request))

    def has_change_permission(self, request, obj=None) -> bool:
        return is_operator(request) or (self.merchant_can_change and self._is_merchant(request))

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_operator(request) or (self.merchant_can_delete and self._is_merchant(request))


class ReadOnlyScopedAdmin(AccountScopedAdmin):
    """Rows that only the system writes (generations, uploads, ledger): shown, never added, edited or deleted
    here — they leave through retention, erasure or not at all, which also clean up their stored objects."""

    addable_here = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
