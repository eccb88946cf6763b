"""Reads for watermark settings, always by account."""

from __future__ import annotations

from accounts.models import Account
from watermark.models import WatermarkSettings


def watermark_settings_get(*, account: Account) -> WatermarkSettings | None:
    return WatermarkSettings.objects.filter(account=account).first()


def watermark_settings_active(*, account: Account) -> WatermarkSettings | None:
    """The settings to draw with, or None when nothing is drawn (disabled, no logo, or fully transparent)."""
    return (
        WatermarkSettings.objects.filter(account=account, enabled=True, opacity_pct__gt=0).exclude(logo_key="").first()
    )
