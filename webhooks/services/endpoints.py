"""The account's webhook endpoint and its signing secret. The plain secret leaves these functions only as their
return value, for the dashboard to show once; it is never stored in clear and never logged."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from tryon_project.http_fetch import url_validate
from webhooks.models import WebhookEndpoint
from webhooks.signing import secret_encrypt, secret_generate


def _url_check(*, url: str) -> None:
    # The same rules as every outbound fetch (raises FetchError), applied on save so a refused URL is never stored
    # and never contacted. Deliveries re-check at every attempt: DNS answers can change after the save.
    if url:
        url_validate(url=url)


def webhook_endpoint_create(*, account: Account, url: str = "", is_enabled: bool = True) -> tuple[WebhookEndpoint, str]:
    """A new endpoint with a new secret; returns the plain secret, which is shown once."""
    _url_check(url=url)
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        account=account, url=url, is_enabled=is_enabled, secret_encrypted=secret_encrypt(secret=secret)
    )
    return endpoint, secret


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, url: str, is_enabled: bool) -> WebhookEndpoint:
    _url_check(url=url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, account_id=endpoint.account_id).update(
        url=url, is_enabled=is_enabled, updated_at=timezone.now()
    )
    endpoint.refresh_from_db()
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """Replace the secret and return the new one (shown once). The old one keeps signing, next to the new one,
    for TRYON_WEBHOOK_SECRET_GRACE_HOURS, so receivers can switch without rejecting a single event."""
    secret = secret_generate()
    now = timezone.now()
    with transaction.atomic():
        # Locked so two concurrent rotations cannot both demote the same secret and lose one of theirs.
        current = (
            WebhookEndpoint.objects.select_for_update()
            .filter(pk=endpoint.pk, account_id=endpoint.account_id)
            .values_list("secret_encrypted", flat=True)
            .get()
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret_encrypted=secret_encrypt(secret=secret),
            previous_secret_encrypted=current,
            previous_secret_expires_at=now + timedelta(hours=settings.TRYON_WEBHOOK_SECRET_GRACE_HOURS),
            secret_rotated_at=now,
            updated_at=now,
        )
    endpoint.refresh_from_db()
    return secret


def webhook_signing_endpoint_ensure(*, account_id: int) -> WebhookEndpoint:
    """The account's endpoint, created without a URL when missing: per-call `webhookUrl` deliveries are always
    signed, with the account's one secret (which the merchant sees by rotating it in the dashboard)."""
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        account_id=account_id,
        defaults={"url": "", "secret_encrypted": secret_encrypt(secret=secret_generate())},
    )
    return endpoint
