"""Tenant isolation of the dashboard: a merchant sees and changes only its own account, whatever the URL."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote

from accounts.models import Account, ApiKey, CreditLedgerEntry
from products.models import Product
from tests.dashboard.helpers import Shop
from tests.watermark.images import opaque_logo
from watermark.models import WatermarkSettings

D = "/dashboard"


def _object_urls(shop: Shop) -> dict[str, str]:
    return {
        "account": f"{D}/accounts/account/{quote(shop.account.pk)}/",
        "api key": f"{D}/accounts/apikey/{quote(shop.api_key.pk)}/",
        "ledger": f"{D}/accounts/creditledgerentry/{quote(shop.ledger_entry.pk)}/",
        "product": f"{D}/products/product/{quote(shop.product.pk)}/",
        "upload": f"{D}/customers/customerimage/{quote(shop.upload.pk)}/",
        "generation": f"{D}/generations/generation/{quote(shop.generation.pk)}/",
        "watermark": f"{D}/watermark/watermarksettings/{quote(shop.watermark.pk)}/",
    }


LISTS = (
    "accounts/account",
    "accounts/apikey",
    "accounts/creditledgerentry",
    "products/product",
    "customers/customerimage",
    "generations/generation",
)


def _markers(shop: Shop) -> list[str]:
    """Strings that only appear on a page that shows one of the shop's rows."""
    name = shop.account.name
    return [
        f"{name}-key",
        f"{name}-tee",
        f"{name} bonus",
        f"{name}-shopper",
        shop.upload.pk,
        shop.generation.pk,
        shop.failed.pk,
    ]


def test_every_object_url_of_another_account_is_404(alpha, beta):
    bob = beta.login()
    for kind, base in _object_urls(alpha).items():
        for suffix in ("change/", "history/", "delete/"):
            assert bob.get(base + suffix).status_code == 404, (kind, suffix)
        assert bob.post(base + "delete/", {"post": "yes"}).status_code == 404, kind
        assert (
            bob.post(
                base + "change/",
                {
                    "name": "stolen",
                    "enabled": "",
                    "position": "center",
                    "size_pct": 1,
                    "opacity_pct": 0,
                    "margin_pct": 0,
                },
            ).status_code
            == 404
        ), kind
    # The same pages of its own account open.
    for kind, base in _object_urls(beta).items():
        assert bob.get(base + "change/").status_code == 200, kind
    topup = f"{D}/accounts/account/{alpha.account.pk}/topup/"
    assert bob.get(topup).status_code == 404
    assert bob.post(topup, {"amount": 5, "reason": "x"}).status_code == 404
    assert (
        bob.post(
            f"{D}/watermark/watermarksettings/{alpha.watermark.pk}/preview/",
            {"position": "center", "size_pct": 20, "opacity_pct": 50, "margin_pct": 0},
        ).status_code
        == 404
    )
    # Nothing of alpha's was touched.
    assert Account.objects.get(pk=alpha.account.pk).name == "alpha"
    assert Account.objects.get(pk=alpha.account.pk).credit_balance == 15
    assert Product.objects.filter(pk=alpha.product.pk).exists()
    assert WatermarkSettings.objects.get(pk=alpha.watermark.pk).position == "bottom-right"


@pytest.mark.parametrize("listing", LISTS)
def test_lists_and_searches_show_only_own_rows(alpha, beta, listing):
    bob = beta.login()
    html = bob.get(f"{D}/{listing}/").content.decode()
    for marker in _markers(alpha):
        assert marker not in html, (listing, marker)
    for query in ("", "alpha", alpha.generation.pk, alpha.upload.pk, "beta"):
        response = bob.get(f"{D}/{listing}/", {"q": query})
        rows = list(response.context["cl"].result_list)
        owners = {row.pk if isinstance(row, Account) else row.account_id for row in rows}
        assert owners <= {beta.account.pk}, (listing, query)
    all_rows = bob.get(f"{D}/{listing}/").context["cl"].result_count
    assert all_rows >= 1


def test_watermark_list_sends_a_merchant_to_its_own_settings(alpha, beta):
    bob = beta.login()
    response = bob.get(f"{D}/watermark/watermarksettings/")
    assert response.status_code == 302
    assert response["Location"] == f"{D}/watermark/watermarksettings/{quote(beta.watermark.pk)}/change/"
    # With a row already there, a second one cannot be added.
    assert bob.get(f"{D}/watermark/watermarksettings/add/").status_code == 403


def test_actions_never_reach_another_accounts_rows(alpha, beta):
    bob = beta.login()
    bob.post(f"{D}/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [alpha.api_key.pk]})
    assert ApiKey.objects.get(pk=alpha.api_key.pk).revoked_at is None
    bob.post(
        f"{D}/products/product/", {"action": "delete_selected", "_selected_action": [alpha.product.pk], "post": "yes"}
    )
    assert Product.objects.filter(pk=alpha.product.pk).exists()
    # The same action on its own key works.
    bob.post(f"{D}/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [beta.api_key.pk]})
    assert ApiKey.objects.get(pk=beta.api_key.pk).revoked_at is not None


def test_related_choices_and_posted_account_ids_are_ignored(alpha, beta):
    bob = beta.login()
    form = bob.get(f"{D}/accounts/apikey/add/").content.decode()
    assert 'name="account"' not in form and "alpha" not in form
    bob.post(f"{D}/accounts/apikey/add/", {"name": "sneaky", "account": alpha.account.pk})
    assert ApiKey.objects.get(name="sneaky").account_id == beta.account.pk
    # A merchant's watermark form has no account field either, and a posted one changes nothing.
    form = bob.get(f"{D}/watermark/watermarksettings/{quote(beta.watermark.pk)}/change/").content.decode()
    assert 'name="account"' not in form
    bob.post(
        f"{D}/watermark/watermarksettings/{quote(beta.watermark.pk)}/change/",
        {
            "account": alpha.account.pk,
            "enabled": "on",
            "position": "center",
            "size_pct": 10,
            "opacity_pct": 40,
            "margin_pct": 1,
            "logo": _upload(opaque_logo()),
        },
    )
    assert WatermarkSettings.objects.get(pk=beta.watermark.pk).position == "center"
    assert WatermarkSettings.objects.get(pk=alpha.watermark.pk).position == "bottom-right"
    assert WatermarkSettings.objects.filter(account=beta.account).count() == 1


def test_overview_counts_only_own_generations(alpha, beta):
    bob = beta.login()
    for query in ("", f"?account={alpha.account.pk}"):
        page = bob.get(f"{D}/generations/generation/overview/{query}")
        assert page.status_code == 200
        stats = page.context["stats"]
        assert (stats["today"], stats["week"], stats["completed"], stats["failed"]) == (2, 2, 1, 1)
        assert page.context["credits_left"] == beta.account.credit_balance == 15
        assert "alpha" not in page.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/accountmembership/",
        "/auth/user/",
        "/accounts/account/add/",
        "/accounts/creditledgerentry/add/",
        "/products/product/add/",
        "/generations/generation/add/",
        "/customers/customerimage/add/",
    ],
)
def test_staff_only_pages_are_forbidden(beta, url):
    assert beta.login().get(D + url).status_code == 403


def test_merchant_cannot_change_its_own_balance(beta):
    bob = beta.login()
    topup = f"{D}/accounts/account/{beta.account.pk}/topup/"
    assert bob.get(topup).status_code == 403
    assert bob.post(topup, {"amount": 1000, "reason": "free money"}).status_code == 403
    assert (
        bob.post(
            f"{D}/accounts/creditledgerentry/add/",
            {"account": beta.account.pk, "kind": "topup", "amount": 1000, "balance_after": 1000},
        ).status_code
        == 403
    )
    bob.post(
        f"{D}/accounts/account/{quote(beta.account.pk)}/change/",
        {
            "customer_retention_days": 3,
            "time_zone": "UTC",
            "credit_balance": 99999,
            "rate_limit_per_minute": 100000,
            "engine": "mock",
            "name": "renamed",
            "is_active": "on",
        },
    )
    beta.account.refresh_from_db()
    assert (beta.account.credit_balance, beta.account.customer_retention_days) == (15, 3)
    assert (beta.account.rate_limit_per_minute, beta.account.engine, beta.account.name) == (100, "", "beta")
    assert CreditLedgerEntry.objects.filter(account=beta.account).count() == 2
    page = bob.get(f"{D}/accounts/account/{quote(beta.account.pk)}/change/").content.decode()
    assert "topup-link" not in page


def _upload(data: bytes, name: str = "logo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")
