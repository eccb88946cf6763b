"""The merchant pages built on generations, driven over HTTP as a dashboard user would: the gallery and its
filters, the customer page and its erasure, the overview charts, the CSV export, the try-on playground."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Account, CreditLedgerEntry
from customers.models import CustomerImage
from customers.services import customer_image_create
from generations.models import Generation
from tests.conftest import ApiClient
from tests.dashboard.helpers import completed_generation
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys
from tryon_project.storage import blob_deletions_process

D = "/dashboard/generations/generation"


def _ids(response) -> set[str]:
    return {generation.pk for generation in response.context["cl"].result_list}


# --- gallery -------------------------------------------------------------------------------------------------
def test_gallery_filters_by_status_product_customer_engine_and_dates(alpha, beta):
    alice = alpha.login()
    old = completed_generation(
        account=alpha.account, person=jpeg_bytes(), result=jpeg_bytes(), external_id="cap", customer_id="other-shopper"
    )
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    everything = {alpha.generation.pk, alpha.failed.pk, old.pk}
    assert _ids(alice.get(f"{D}/")) == everything
    assert _ids(alice.get(f"{D}/", {"status__exact": "FAILED"})) == {alpha.failed.pk}
    assert _ids(alice.get(f"{D}/", {"product": "cap"})) == {old.pk}
    assert _ids(alice.get(f"{D}/", {"customer": "alpha-shopper"})) == {alpha.generation.pk}
    assert _ids(alice.get(f"{D}/", {"engine_ran": "local"})) == {alpha.generation.pk, old.pk}
    today = timezone.localdate().isoformat()
    ten_days_ago = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert _ids(alice.get(f"{D}/", {"created_from": today})) == {alpha.generation.pk, alpha.failed.pk}
    assert _ids(alice.get(f"{D}/", {"created_to": ten_days_ago})) == {old.pk}
    assert _ids(alice.get(f"{D}/", {"created_from": ten_days_ago, "created_to": ten_days_ago})) == {old.pk}
    # Filters never reach another account: beta's customer id and product match nothing for alpha.
    assert _ids(alice.get(f"{D}/", {"customer": "beta-shopper"})) == set()
    assert _ids(alice.get(f"{D}/", {"product": "beta-tee"})) == set()
    # The product filter offers the viewer's own products only, with their titles.
    html = alice.get(f"{D}/").content.decode()
    assert "alpha tee (alpha-tee)" in html and "beta-tee" not in html
    # Cards at 160 px, person + garment -> result, the customer id linking to the customer page.
    assert html.count('class="dash-card"') == 3 and "height:160px;width:160px" in html
    assert "/customers/view/?id=alpha-shopper" in html


def test_an_erased_generation_says_when(alpha):
    generation = alpha.generation
    Generation.objects.filter(pk=generation.pk).update(
        person_image_key="", result_key="", result_deleted=True, customer_id=""
    )
    html = alpha.login().get(f"{D}/").content.decode()
    assert html.count("erased on ") >= 1 and "— → —" not in html


# --- customers -----------------------------------------------------------------------------------------------
def test_customer_search_and_page_show_only_own_customers(alpha, beta):
    alice = alpha.login()
    found = alice.get(f"{D}/customers/", {"q": "shopper"})
    assert found.status_code == 200
    rows = list(found.context["page"])
    assert [(row["customer_id"], row["generations"], row["photos"]) for row in rows] == [("alpha-shopper", 1, 1)]
    # A shopper with a photo but no generation is found too (its photo can be erased).
    customer_image_create(account=alpha.account, data=jpeg_bytes(), crop=False, customer_id="new-shopper")
    customer_image_create(account=beta.account, data=jpeg_bytes(), crop=False, customer_id="beta-new-shopper")
    uploads_only = alice.get(f"{D}/customers/", {"q": "shopper"}).context["uploads_only"]
    assert [(row["customer_id"], row["photos"]) for row in uploads_only] == [("new-shopper", 1)]
    page = alice.get(f"{D}/customers/view/", {"id": "alpha-shopper"})
    html = page.content.decode()
    assert alpha.upload.pk in html and alpha.generation.pk in html and 'id="erase-customer"' in html
    # Another account's customer id shows nothing of it (and offers nothing to erase).
    other = alice.get(f"{D}/customers/view/", {"id": "beta-shopper"}).content.decode()
    assert beta.upload.pk not in other and beta.generation.pk not in other and 'id="erase-customer"' not in other


def test_erase_customer_asks_then_erases_like_the_api_and_is_audited(alpha, beta, django_capture_on_commit_callbacks):
    alice = alpha.login()
    keys = {alpha.generation.person_image_key, alpha.generation.result_key, alpha.upload.storage_key}
    assert keys <= set(all_storage_keys())
    confirm = alice.get(f"{D}/customers/erase/", {"id": "alpha-shopper"})
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert (confirm.context["generation_count"], confirm.context["photo_count"]) == (1, 1)
    # Without the confirmation nothing happens.
    alice.post(f"{D}/customers/erase/", {"id": "alpha-shopper"})
    assert CustomerImage.objects.filter(pk=alpha.upload.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = alice.post(f"{D}/customers/erase/", {"id": "alpha-shopper", "confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == f"{D}/customers/"
    assert not CustomerImage.objects.filter(pk=alpha.upload.pk).exists()
    # The stored files go in the background job the erasure scheduled, as for the API.
    assert blob_deletions_process() == 3
    assert not keys & set(all_storage_keys())
    # The API now reports the result deleted, as after DELETE /customers/{id}.
    wire = ApiClient(_plain_key(alpha)).get(f"/tryon/v1/generations/{alpha.generation.pk}").json()
    assert wire["resultDeleted"] is True
    # Audited: who and when, and not the erased id itself.
    entry = LogEntry.objects.get(object_id=str(alpha.account.pk), content_type__model="account")
    assert entry.user.username == "alpha-user" and "Erased a customer's data" in entry.change_message
    assert "alpha-shopper" not in entry.change_message
    # beta's customer is untouched.
    assert CustomerImage.objects.filter(pk=beta.upload.pk).exists()
    assert Generation.objects.get(pk=beta.generation.pk).result_key == beta.generation.result_key


def test_erase_of_another_accounts_customer_id_touches_nothing(alpha, beta):
    bob = beta.login()
    bob.post(f"{D}/customers/erase/", {"id": "alpha-shopper", "confirm": "yes", "account": alpha.account.pk})
    assert CustomerImage.objects.filter(pk=alpha.upload.pk).exists()
    assert Generation.objects.get(pk=alpha.generation.pk).customer_id == "alpha-shopper"


def _plain_key(shop) -> str:
    from accounts.services import api_key_create

    return api_key_create(account=shop.account, name="check")[1]


# --- overview and export -------------------------------------------------------------------------------------
def test_overview_draws_30_day_charts_and_percentiles(alpha):
    for ms in (1000, 3000, 5000):
        completed_generation(account=alpha.account, person=jpeg_bytes(), result=jpeg_bytes(), duration_ms=ms)
    page = alpha.login().get(f"{D}/overview/")
    stats = page.context["stats"]
    assert len(stats["days"]) == 30
    today = stats["days"][-1]
    assert (today.completed, today.failed) == (4, 1)
    assert (stats["p50_seconds"], stats["p95_seconds"]) == (2.4, 5.0)  # of 1.0, 2.4, 3.0, 5.0 s
    assert stats["trend_success_rate"] == 80.0
    assert stats["top_products"][0]["product_external_id"] == "tee" and stats["top_products"][0]["count"] == 3
    assert stats["failures"] == [{"error_code": "PERSON_NOT_DETECTED", "count": 1, "share": 100}]
    html = page.content.decode()
    assert '<svg id="chart-per-day"' in html and '<svg id="chart-time"' in html
    assert f'data-day="{today.label}" data-completed="4" data-failed="1"' in html
    assert "<script" not in html.split('id="overview-per-day"')[1].split("</svg>")[0]


def test_csv_export_of_a_date_range_is_scoped(alpha, beta):
    old = completed_generation(account=alpha.account, person=jpeg_bytes(), result=jpeg_bytes(), external_id="=cmd")
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    response = alpha.login().get(f"{D}/export.csv", {"created_from": timezone.localdate().isoformat()})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "created_at", "status"]
    assert {row[0] for row in rows[1:]} == {alpha.generation.pk, alpha.failed.pk}
    everything = alpha.login().get(f"{D}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {alpha.generation.pk, alpha.failed.pk, old.pk}
    assert by_id[old.pk][3] == "'=cmd"  # a spreadsheet formula is quoted as text
    assert by_id[alpha.generation.pk][4] == "alpha tee"
    assert rows[0][-2:] == ["result_deleted", "time_zone"]  # merchants get no account column


def test_operator_csv_export_names_the_account(alpha, beta, operator):
    rows = list(csv.reader(io.StringIO(b"".join(operator.get(f"{D}/export.csv").streaming_content).decode())))
    assert rows[0][-1] == "account"
    assert {(row[0], row[-1]) for row in rows[1:]} == {
        (alpha.generation.pk, "alpha"),
        (alpha.failed.pk, "alpha"),
        (beta.generation.pk, "beta"),
        (beta.failed.pk, "beta"),
    }


# --- playground ----------------------------------------------------------------------------------------------
def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", jpeg_bytes(width=600, height=750), content_type="image/jpeg")


def test_playground_try_on_with_upload_is_charged_and_runs(
    alpha, fake_engine, eager, django_capture_on_commit_callbacks
):
    alice = alpha.login()
    form = alice.get(f"{D}/try-on/")
    assert form.status_code == 200 and "alpha tee (alpha-tee)" in form.content.decode()
    garment = SimpleUploadedFile("g.jpg", jpeg_bytes(color=(20, 20, 200)), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            f"{D}/try-on/",
            {"photo": _photo(), "garment": garment, "category": "tops", "customer_id": "walk-in", "use_watermark": ""},
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    generation = Generation.objects.exclude(pk__in=[alpha.generation.pk, alpha.failed.pk]).get(account=alpha.account)
    assert response["Location"] == f"{D}/try-on/?generation={generation.pk}"
    assert (generation.status, generation.customer_id, generation.use_watermark) == ("COMPLETED", "walk-in", False)
    assert len(fake_engine.calls) == 1
    assert Account.objects.get(pk=alpha.account.pk).credit_balance == alpha.account.credit_balance - 1
    assert CreditLedgerEntry.objects.filter(generation_ref=generation.pk, kind="reserve").count() == 1
    state = alice.get(f"{D}/try-on/{generation.pk}/status/").json()
    assert state["status"] == "COMPLETED" and state["done"] is True and "/files/" in state["resultUrl"]
    page = alice.get(response["Location"]).content.decode()
    assert 'id="playground-download"' in page and generation.result_key in page
    # Marked as made from the dashboard, by whom.
    detail = alice.get(f"{D}/{quote(generation.pk)}/change/").content.decode()
    assert "from the dashboard&#x27;s try-on playground by alpha-user" in detail


def test_playground_refusals_create_nothing(alpha, beta, fake_engine, eager):
    alice = alpha.login()
    before = (Generation.objects.count(), CustomerImage.objects.count(), alpha.account.credit_balance)
    # Neither a photo nor a product; then both a photo and a recent photo.
    assert alice.post(f"{D}/try-on/", {}).status_code == 200
    both = alice.post(f"{D}/try-on/", {"photo": _photo(), "recent_photo": alpha.upload.pk, "product": "alpha-tee"})
    assert "one of the two" in both.content.decode()
    # Another account's photo id is not offered and not accepted.
    stolen = alice.post(f"{D}/try-on/", {"recent_photo": beta.upload.pk, "product": "alpha-tee"})
    assert stolen.status_code == 200 and "Select a valid choice" in stolen.content.decode()
    # No credit left: the API's refusal, in words.
    Account.objects.filter(pk=alpha.account.pk).update(credit_balance=0)
    broke = alice.post(f"{D}/try-on/", {"recent_photo": alpha.upload.pk, "product": "alpha-tee"})
    assert broke.status_code == 402 and "INSUFFICIENT_CREDITS" in broke.content.decode()
    assert (Generation.objects.count(), CustomerImage.objects.count()) == before[:2]
    assert fake_engine.calls == []
    # Another account's generation is not reachable through the status URL or the page.
    bob = beta.login()
    assert bob.get(f"{D}/try-on/{alpha.generation.pk}/status/").status_code == 404
    assert bob.get(f"{D}/try-on/?" + urlencode({"generation": alpha.generation.pk})).status_code == 404


def test_playground_shares_the_api_rate_limit(alpha, fake_engine, eager, django_capture_on_commit_callbacks):
    Account.objects.filter(pk=alpha.account.pk).update(rate_limit_per_minute=1)
    alice = alpha.login()
    with django_capture_on_commit_callbacks(execute=True):
        first = alice.post(f"{D}/try-on/", {"recent_photo": alpha.upload.pk, "product": "alpha-tee"})
    assert first.status_code == 302
    count = Generation.objects.count()
    second = alice.post(f"{D}/try-on/", {"recent_photo": alpha.upload.pk, "product": "alpha-tee"})
    assert second.status_code == 429 and "rate limit" in second.content.decode()
    assert Generation.objects.count() == count


# --- error pages ---------------------------------------------------------------------------------------------
def test_error_pages_are_drawn_inside_the_dashboard(alpha, settings):
    settings.DEBUG = False
    alice = alpha.login()
    missing = alice.get(f"{D}/{quote(alpha.generation.pk)}x/change/")
    assert missing.status_code == 404 and 'data-status="404"' in missing.content.decode()
    assert "Back to the dashboard" in missing.content.decode() and "Try-On dashboard" in missing.content.decode()
    forbidden = alice.get("/dashboard/accounts/accountmembership/")
    assert forbidden.status_code == 403 and 'data-status="403"' in forbidden.content.decode()
    # The 500 page renders without any request context (Django's server_error view), inside the frame too.
    from django.test import RequestFactory
    from django.views.defaults import server_error

    crashed = server_error(RequestFactory().get("/dashboard/"))
    assert (
        crashed.status_code == 500
        and b'data-status="500"' in crashed.content
        and b"Try-On dashboard" in crashed.content
    )
    # The API keeps its JSON errors.
    assert ApiClient(_plain_key(alpha)).get("/tryon/v1/nothing-here").json()["code"] == "NOT_FOUND"


# --- products ------------------------------------------------------------------------------------------------
def test_product_page_shows_the_api_stats_images_lifetime_and_recent_generations(alpha, beta):
    completed_generation(
        account=alpha.account, person=jpeg_bytes(), result=jpeg_bytes(), external_id="alpha-tee", duration_ms=1600
    )
    api = ApiClient(_plain_key(alpha)).get("/tryon/v1/products/alpha-tee/stats").json()
    page = alpha.login().get(f"/dashboard/products/product/{quote(alpha.product.pk)}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    for element, key in (
        ("stat-total", "totalGenerations"),
        ("stat-completed", "completedGenerations"),
        ("stat-failed", "failedGenerations"),
    ):
        assert f'<td id="{element}">{api[key]}</td>' in html
    assert (api["totalGenerations"], api["completedGenerations"], api["failedGenerations"]) == (3, 2, 1)
    assert f'<td id="stat-average">{api["avgGenerationTimeMs"] / 1000:.1f} s</td>' in html
    assert '<svg id="chart-product-days"' in html and html.count('class="dash-card"') == 3
    # The catalog image was never downloaded: said in words, not hot-linked from the merchant's host.
    assert "not downloaded yet" in html and 'src="https://alpha.example' not in html
    assert "kept until deleted" in html and "never" in html
    # No add form: products come from the API.
    assert alpha.login().get("/dashboard/products/product/add/").status_code == 403


def test_writes_need_the_csrf_token(alpha):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.login(username=alpha.username, password=alpha.password)
    before = Generation.objects.count()
    assert client.post(f"{D}/try-on/", {"recent_photo": alpha.upload.pk, "product": "alpha-tee"}).status_code == 403
    erase = client.post(f"{D}/customers/erase/", {"id": "alpha-shopper", "confirm": "yes"})
    assert erase.status_code == 403
    assert Generation.objects.count() == before and CustomerImage.objects.filter(pk=alpha.upload.pk).exists()
    assert client.get("/dashboard/try-on/")["Location"] == f"{D}/try-on/"
