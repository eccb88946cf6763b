"""Reads for accounts. Every read is by key hash or scoped to an account."""

from __future__ import annotations

from accounts.keys import key_hash
from accounts.models import Account, AccountMembership, ApiKey


def api_key_resolve(*, plain: str) -> ApiKey | None:
    """The active key with its account, or None (unknown, revoked, or account inactive)."""
    # get() rather than first(): key_hash is unique, and first() would add an ORDER BY to the hottest query.
    try:
        return ApiKey.objects.select_related("account").get(
            key_hash=key_hash(plain), revoked_at__isnull=True, account__is_active=True
        )
    except ApiKey.DoesNotExist:
        return None


def account_credit_balance(*, account: Account) -> int:
    return Account.objects.values_list("credit_balance", flat=True).get(pk=account.pk)


def account_for_user(*, user) -> Account | None:
    """The merchant account a dashboard user belongs to; None for staff without membership."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = AccountMembership.objects.select_related("account").filter(user=user).first()
    return membership.account if membership else None
