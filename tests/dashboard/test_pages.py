"""What the dashboard pages show and write: generations, uploads, overview, watermark, top-ups, engines."""

from __future__ import annotations

import io
from datetime import timedelta

from django.contrib.admin.utils import quote
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Account, CreditLedgerEntry
from generations.models import Generation
from tests.dashboard.helpers import completed_generation
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys
from tests.watermark.images import close, opaque_logo, pixel, solid
from watermark.models import WatermarkSettings
from watermark.services import watermark_settings_update

D = "/dashboard"
MAGENTA = (255, 0, 255)


def _served(client, url: str) -> bytes:
    response = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_generation_pages_show_before_after_status_error_and_timings(alpha):
    alice = alpha.login()
    listing = alice.get(f"{D}/generations/generation/").content.decode()
    generation = alpha.generation
    for key in (generation.person_image_key, generation.result_key):
        assert f"/files/{key}?exp=" in listing
    # Status in words, the error message with its code, the product's title with its external id.
    assert ">Completed</span>" in listing and ">Failed</span>" in listing and "PERSON_NOT_DETECTED" in listing
    assert "no person" in listing and "alpha tee" in listing and "alpha-tee" in listing
    # The garment of a URL product that was never downloaded says so instead of a broken image.
    assert "garment not downloaded yet" in listing
    page = alice.get(f"{D}/generations/generation/{quote(generation.pk)}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="dash-thumb generation-before"' in html and 'class="dash-thumb generation-after"' in html
    assert "height:320px" in html and "View generation" in html
    assert "<th>engine_ms</th><td>131.0</td>" in html and "2.4 s" in html and "local" in html
    assert "a real engine, through the API" in html and " UTC" in html
    failed = alice.get(f"{D}/generations/generation/{quote(alpha.failed.pk)}/change/").content.decode()
    assert "PERSON_NOT_DETECTED" in failed and "no person" in failed
    # Read-only: nothing to save, nothing to delete.
    assert 'name="_save"' not in html
    alice.post(f"{D}/generations/generation/{quote(generation.pk)}/change/", {"status": "FAILED"})
    assert Generation.objects.get(pk=generation.pk).status == "COMPLETED"


def test_thumbnail_urls_serve_the_images(alpha):
    alice = alpha.login()
    html = alice.get(f"{D}/generations/generation/{quote(alpha.generation.pk)}/change/").content.decode()
    urls = [part.split('"', 1)[0] for part in html.split('src="')[1:] if "/files/" in part.split('"', 1)[0]]
    assert len(urls) == 2
    before, after = (_served(alice, url.replace("&amp;", "&")) for url in urls)
    assert close(pixel(before, (5, 5)), (200, 60, 40), tolerance=6)
    assert close(pixel(after, (5, 5)), (0, 200, 0), tolerance=6)


def test_uploads_page_shows_expiry_read_only(alpha):
    alice = alpha.login()
    upload = alpha.upload
    listing = alice.get(f"{D}/customers/customerimage/")
    html = listing.content.decode()
    assert upload.pk in html and f"/files/{upload.storage_key}?exp=" in html and "300 x 400" in html
    assert "Deleted" in html and "in 7 days" in html
    alice.post(f"{D}/customers/customerimage/{quote(upload.pk)}/change/", {"customer_id": "changed"})
    upload.refresh_from_db()
    assert upload.customer_id == "alpha-shopper"


def test_overview_numbers(db):
    from tests.dashboard.helpers import make_shop

    shop = make_shop("gamma", credits=3)  # one completed (2.4 s) and one failed generation, today
    now = timezone.now()
    extra = [
        completed_generation(account=shop.account, person=jpeg_bytes(), result=jpeg_bytes(), duration_ms=ms)
        for ms in (1200, 3600)
    ]
    old = completed_generation(account=shop.account, person=jpeg_bytes(), result=jpeg_bytes(), duration_ms=99000)
    Generation.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    Generation.objects.filter(pk=extra[1].pk).update(created_at=now - timedelta(days=2))
    page = shop.login().get(f"{D}/generations/generation/overview/")
    stats = page.context["stats"]
    assert (stats["today"], stats["week"], stats["completed"], stats["failed"]) == (3, 4, 3, 1)
    assert stats["success_rate"] == 75.0
    assert stats["avg_seconds"] == round((2400 + 1200 + 3600) / 3 / 1000, 1)
    assert stats["top_errors"] == [{"error_code": "PERSON_NOT_DETECTED", "count": 1}]
    assert page.context["credits_left"] == 8
    html = page.content.decode()
    assert "75.0 %" in html and "2.4 s" in html


def test_staff_overview_across_accounts_and_per_account(alpha, beta, operator):
    every = operator.get(f"{D}/generations/generation/overview/").context
    assert (every["stats"]["week"], every["credits_left"]) == (4, 30)
    one = operator.get(f"{D}/generations/generation/overview/", {"account": alpha.account.pk}).context
    assert (one["stats"]["week"], one["credits_left"]) == (2, 15)
    listing = operator.get(f"{D}/generations/generation/").context["cl"]
    assert listing.result_count == 4


def test_staff_top_up_records_who_and_why(alpha, operator):
    url = f"{D}/accounts/account/{alpha.account.pk}/topup/"
    assert operator.get(url).status_code == 200
    response = operator.post(url, {"amount": 25, "reason": "March invoice"})
    assert response.status_code == 302
    entry = CreditLedgerEntry.objects.filter(account=alpha.account).first()
    assert (entry.kind, entry.amount, entry.balance_after, entry.reason) == ("topup", 25, 40, "March invoice")
    assert entry.created_by.username == "operator"
    assert Account.objects.get(pk=alpha.account.pk).credit_balance == 40
    # A correction may not take the balance below zero; an empty top-up is refused. Nothing is written.
    below_zero = operator.post(url, {"amount": -41, "reason": "oops"})
    assert below_zero.status_code == 200 and "cannot go below zero" in below_zero.content.decode()
    for data in ({"amount": 0, "reason": "nothing"}, {"amount": 5}):
        assert operator.post(url, data).status_code == 200
    assert CreditLedgerEntry.objects.filter(account=alpha.account).count() == 3  # initial, bonus, this top-up
    assert Account.objects.get(pk=alpha.account.pk).credit_balance == 40
    # Merchants see the reason of each movement but not which staff member made it.
    ledger = alpha.login().get(f"{D}/accounts/creditledgerentry/").content.decode()
    assert "March invoice" in ledger and "operator" not in ledger
    assert "operator" in operator.get(f"{D}/accounts/creditledgerentry/").content.decode()


def test_staff_sets_engine_and_rate_limit_and_adds_accounts(alpha, operator):
    url = f"{D}/accounts/account/{quote(alpha.account.pk)}/change/"
    form = operator.get(url).content.decode()
    assert '<option value="mock">mock</option>' in form and "topup-link" in form
    response = operator.post(
        url,
        {
            "name": "alpha",
            "is_active": "on",
            "rate_limit_per_minute": 7,
            "customer_retention_days": 1,
            "engine": "mock",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 302, response.content
    account = Account.objects.get(pk=alpha.account.pk)
    assert (account.engine, account.rate_limit_per_minute, account.customer_retention_days) == ("mock", 7, 1)
    assert account.credit_balance == 15
    response = operator.post(
        f"{D}/accounts/account/add/",
        {
            "name": "delta",
            "is_active": "on",
            "rate_limit_per_minute": 50,
            "customer_retention_days": 3,
            "engine": "",
            "time_zone": "America/Sao_Paulo",
        },
    )
    assert response.status_code == 302, response.content
    delta = Account.objects.get(name="delta")
    assert (delta.rate_limit_per_minute, delta.customer_retention_days, delta.engine) == (50, 3, "")
    assert delta.time_zone == "America/Sao_Paulo"


def _settings_form(**overrides) -> dict:
    return {"enabled": "on", "position": "top-left", "size_pct": 25, "opacity_pct": 100, "margin_pct": 5, **overrides}


def _png(data: bytes, name: str = "logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def test_merchant_uploads_logo_through_the_form(alpha, django_capture_on_commit_callbacks):
    alice = alpha.login()
    url = f"{D}/watermark/watermarksettings/{quote(alpha.watermark.pk)}/change/"
    old_key = alpha.watermark.logo_key
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(url, _settings_form(logo=_png(opaque_logo(color=MAGENTA))))
    assert response.status_code == 302, response.content
    row = WatermarkSettings.objects.get(pk=alpha.watermark.pk)
    assert (row.position, row.size_pct, row.opacity_pct, row.margin_pct) == ("top-left", 25, 100, 5)
    assert row.logo_key != old_key and row.updated_by.username == "alpha-user"
    keys = set(all_storage_keys())
    assert row.logo_key in keys and old_key not in keys
    # A JPEG logo has no transparency: refused with a message, nothing changes.
    response = alice.post(url, _settings_form(position="center", logo=_png(solid(image_format="JPEG"), "l.jpg")))
    assert response.status_code == 200
    assert "PNG or WebP" in response.content.decode()
    assert WatermarkSettings.objects.get(pk=row.pk).position == "top-left"


def test_merchant_without_settings_adds_them(db):
    from tests.dashboard.helpers import make_shop

    shop = make_shop("epsilon")
    WatermarkSettings.objects.filter(account=shop.account).delete()
    client = shop.login()
    response = client.get(f"{D}/watermark/watermarksettings/")
    assert response["Location"] == f"{D}/watermark/watermarksettings/add/"
    response = client.post(f"{D}/watermark/watermarksettings/add/", _settings_form(logo=_png(opaque_logo())))
    assert response.status_code == 302, response.content
    assert WatermarkSettings.objects.get(account=shop.account).has_logo


def _sample() -> bytes:
    with open(finders.find("watermark/sample-result.jpg"), "rb") as handle:
        return handle.read()


def test_preview_draws_the_unsaved_form_on_the_sample(alpha):
    alice = alpha.login()
    url = f"{D}/watermark/watermarksettings/{alpha.watermark.pk}/preview/"
    response = alice.post(url, _settings_form(position="bottom-right", logo=_png(opaque_logo(color=MAGENTA))))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    width, height = Image.open(io.BytesIO(_sample())).size
    logo_w = round(width * 0.25)
    margin = round(width * 0.05)
    centre = (width - margin - logo_w // 2, height - margin - logo_w // 4)
    assert close(pixel(response.content, centre), MAGENTA, tolerance=12)
    # Without a new upload the stored logo is used; disabled or removed, the preview is the bare sample.
    stored = alice.post(url, _settings_form())
    assert stored.status_code == 200 and stored.content != _sample()
    assert alice.post(url, _settings_form(enabled="")).content == _sample()
    assert alice.post(url, _settings_form(remove_logo="on")).content == _sample()
    # The saved settings are untouched by previews.
    assert WatermarkSettings.objects.get(pk=alpha.watermark.pk).position == "bottom-right"
    assert WatermarkSettings.objects.get(pk=alpha.watermark.pk).logo_key == alpha.watermark.logo_key


def test_preview_refusals(alpha):
    alice = alpha.login()
    url = f"{D}/watermark/watermarksettings/{alpha.watermark.pk}/preview/"
    assert alice.get(url).status_code == 405
    bad = alice.post(url, _settings_form(logo=_png(solid(image_format="JPEG"), "l.jpg")))
    assert bad.status_code == 400 and "PNG or WebP" in bad.json()["errors"][0]
    too_small = alice.post(url, _settings_form(size_pct=0))
    assert too_small.status_code == 400 and too_small.json()["errors"][0].startswith("Size: ")


def test_stored_results_carry_the_logo_the_form_saved(alpha):
    # What the dashboard saved is what the worker draws.
    watermark_settings_update(
        account=alpha.account,
        logo=opaque_logo(color=MAGENTA),
        position="top-left",
        size_pct=50,
        opacity_pct=100,
        margin_pct=0,
    )
    from watermark.services import watermark_apply_for_account

    out = watermark_apply_for_account(account=alpha.account, image=solid(size=(400, 300)))
    assert close(pixel(out, (50, 25)), MAGENTA, tolerance=1)


def test_times_name_their_zone_and_booleans_are_words(alpha, operator):
    alice = alpha.login()
    key_page = alice.get(f"{D}/accounts/apikey/{quote(alpha.api_key.pk)}/change/").content.decode()
    assert " UTC</div>" in key_page  # created: "2 Dec 2026, 14:05 UTC"
    ledger = alice.get(f"{D}/accounts/creditledgerentry/").content.decode()
    assert " UTC</td>" in ledger or " UTC</a></th>" in ledger
    accounts = operator.get(f"{D}/accounts/account/").content.decode()
    # A boolean column is a neutral word, never the admin's red cross or green tick.
    assert '<span class="dash-badge dash-badge-neutral">Yes</span>' in accounts
    assert "icon-no.svg" not in accounts and "icon-yes.svg" not in accounts
    # Merchant wording: the list is titled by what it holds.
    assert "<h1>Generations</h1>" in alice.get(f"{D}/generations/generation/").content.decode()
    assert "Recent actions" not in alice.get(f"{D}/").content.decode()


def test_a_generation_whose_id_looks_admin_quoted_is_reachable_from_the_gallery(alpha):
    # Public ids are URL-safe base64 and may hold "_5F", "_2F", …, which the admin reads back as quoted characters:
    # every link the dashboard draws must quote the id, or such a generation answers 404.
    tricky = completed_generation(
        account=alpha.account, person=jpeg_bytes(), result=jpeg_bytes(), id="gen_5Fab_2Fcd_3Aef"
    )
    alice = alpha.login()
    listing = alice.get(f"{D}/generations/generation/").content.decode()
    link = f"{D}/generations/generation/{quote(tricky.pk)}/change/"
    assert f'href="{link}"' in listing
    assert alice.get(link).status_code == 200
    assert alice.get(f"{D}/generations/generation/{tricky.pk}/change/").status_code != 200
