"""Writes for accounts, keys, credits and dashboard memberships."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.key_cache import api_key_cache_invalidate
from accounts.keys import key_generate, key_hash, key_visible_prefix
from accounts.models import Account, AccountMembership, ApiKey, CreditLedgerEntry, LedgerKind
from accounts.time_zones import DEFAULT_TIME_ZONE, time_zone_validate
from tryon_project.api.errors import ApiError, ErrorCode

# A busy key records its use at most this often (the authentication cache re-reads a key when it is due).
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


class CreditError(Exception):
    pass


def account_create(
    *,
    name: str,
    credits: int = 0,
    rate_limit_per_minute: int | None = None,
    customer_retention_days: int | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
    created_by=None,
) -> Account:
    time_zone_validate(time_zone)
    with transaction.atomic():
        account = Account.objects.create(
            name=name,
            rate_limit_per_minute=rate_limit_per_minute or settings.TRYON_RATE_LIMIT_PER_MINUTE,
            customer_retention_days=customer_retention_days or settings.TRYON_DEFAULT_RETENTION_DAYS,
            time_zone=time_zone,
        )
        if credits:
            credits_topup(account=account, amount=credits, reason="initial credits", created_by=created_by)
            account.refresh_from_db(fields=["credit_balance"])
    return account


def account_update_settings(
    *,
    account: Account,
    name: str | None = None,
    customer_retention_days: int | None = None,
    rate_limit_per_minute: int | None = None,
    engine: str | None = None,
    is_active: bool | None = None,
    time_zone: str | None = None,
) -> Account:
    """Change the named settings. A time zone that is not an IANA name raises ValidationError, nothing saved."""
    if time_zone is not None:
        time_zone_validate(time_zone)
    fields: list[str] = []
    for field, value in (
        ("name", name),
        ("customer_retention_days", customer_retention_days),
        ("rate_limit_per_minute", rate_limit_per_minute),
        ("engine", engine),
        ("is_active", is_active),
        ("time_zone", time_zone),
    ):
        if value is not None:
            setattr(account, field, value)
            fields.append(field)
    if fields:
        account.save(update_fields=[*fields, "updated_at"])
        # Also done by the post_save signal; explicit here because authentication must never serve the old
        # rate limit, engine or activity from its cache after this returns, in any process.
        api_key_cache_invalidate()
    return account


def api_key_create(*, account: Account, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    plain = key_generate()
    api_key = ApiKey.objects.create(
        account=account, name=name or "default", prefix=key_visible_prefix(plain), key_hash=key_hash(plain)
    )
    return api_key, plain


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # A conditional UPDATE sends no signal: the cache is invalidated here, for every process that shares it.
    api_key_cache_invalidate()
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, min_interval: timedelta = API_KEY_TOUCH_INTERVAL) -> None:
    """Record use at most once a minute per key, so a busy key does not write on every request."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < min_interval:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def credits_topup(*, account: Account, amount: int, reason: str, created_by=None) -> CreditLedgerEntry:
    if amount == 0:
        raise CreditError("A top-up must change the balance.")
    with transaction.atomic():
        # A negative top-up (correction) may not take the balance below zero: the check constraint enforces it.
        try:
            Account.objects.filter(pk=account.pk).update(credit_balance=F("credit_balance") + amount)
        except IntegrityError as exc:
            raise CreditError("The balance cannot go below zero.") from exc
        balance = Account.objects.values_list("credit_balance", flat=True).get(pk=account.pk)
        return CreditLedgerEntry.objects.create(
            account=account,
            kind=LedgerKind.TOPUP,
            amount=amount,
            balance_after=balance,
            reason=reason,
            created_by=created_by,
        )


def credits_reserve(*, account: Account, generation_ref: str) -> CreditLedgerEntry:
    """Take one credit for a generation. Must run inside the transaction that creates the generation.

    The conditional UPDATE is the whole concurrency story: it never lets the balance go below zero,
    whatever the number of concurrent callers (no read-then-write)."""
    updated = Account.objects.filter(pk=account.pk, credit_balance__gte=1).update(
        credit_balance=F("credit_balance") - 1
    )
    if not updated:
        raise ApiError(ErrorCode.INSUFFICIENT_CREDITS, "No credit left on this account.")
    balance = Account.objects.values_list("credit_balance", flat=True).get(pk=account.pk)
    return CreditLedgerEntry.objects.create(
        account=account, kind=LedgerKind.RESERVE, amount=-1, balance_after=balance, generation_ref=generation_ref
    )


def credits_refund(*, account_id: int, generation_ref: str, reason: str = "") -> bool:
    """Give back the credit reserved for a generation, exactly once. Returns False when there was nothing
    to refund (no reserve, e.g. the free mock path, or already refunded)."""
    with transaction.atomic():
        if not CreditLedgerEntry.objects.filter(generation_ref=generation_ref, kind=LedgerKind.RESERVE).exists():
            return False
        try:
            with transaction.atomic():
                entry = CreditLedgerEntry.objects.create(
                    account_id=account_id,
                    kind=LedgerKind.REFUND,
                    amount=1,
                    balance_after=0,
                    generation_ref=generation_ref,
                    reason=reason,
                )
        except IntegrityError:
            return False
        Account.objects.filter(pk=account_id).update(credit_balance=F("credit_balance") + 1)
        balance = Account.objects.values_list("credit_balance", flat=True).get(pk=account_id)
        CreditLedgerEntry.objects.filter(pk=entry.pk).update(balance_after=balance)
    return True


def dashboard_user_create(*, account: Account, username: str, password: str, email: str = ""):
    """A merchant dashboard login: may sign in to /dashboard/ and sees only its own account."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=username, password=password, email=email, is_staff=True, is_superuser=False
        )
        AccountMembership.objects.create(user=user, account=account)
    return user
