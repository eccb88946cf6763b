from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.time_zones import DEFAULT_TIME_ZONE, time_zone_validate


class RetentionDays(models.IntegerChoices):
    ONE = 1, "1 day"
    THREE = 3, "3 days"
    SEVEN = 7, "7 days"


class Account(models.Model):
    """A merchant tenant. Every API object belongs to exactly one account."""

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    credit_balance = models.IntegerField(default=0)
    rate_limit_per_minute = models.PositiveIntegerField(default=100)
    customer_retention_days = models.PositiveSmallIntegerField(choices=RetentionDays.choices, default=7)
    engine = models.CharField(max_length=50, blank=True, default="", help_text="Empty: the server default engine.")
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[time_zone_validate],
        help_text="IANA time zone of the dashboard's times and days (e.g. Europe/Paris).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(credit_balance__gte=0), name="account_credit_balance_non_negative"),
            models.CheckConstraint(condition=Q(customer_retention_days__in=[1, 3, 7]), name="account_retention_days"),
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key. Only its SHA-256 is stored; the plain key is shown once at creation."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LedgerKind(models.TextChoices):
    TOPUP = "topup", "Top-up"
    RESERVE = "reserve", "Reserve"
    REFUND = "refund", "Refund"


class CreditLedgerEntry(models.Model):
    """Append-only record of every credit movement. The balance on Account is its running sum."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=LedgerKind.choices)
    amount = models.IntegerField(help_text="Signed change of the balance.")
    balance_after = models.IntegerField()
    # NULL (not "") for top-ups so the partial unique constraint below ignores them.
    generation_ref = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "credit ledger entry"
        verbose_name_plural = "credit ledger"
        constraints = [
            # One reserve and at most one refund per generation: a retried worker can never refund twice.
            models.UniqueConstraint(
                fields=["generation_ref", "kind"],
                condition=Q(generation_ref__isnull=False),
                name="ledger_one_entry_per_generation_and_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="topup") | Q(generation_ref__isnull=False), name="ledger_generation_entries_have_ref"
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d}"


class AccountMembership(models.Model):
    """Links a dashboard user to the one merchant account it may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} → {self.account}"
