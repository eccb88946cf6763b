"""Each account's time zone: set by the merchant or an operator, validated as an IANA name, and every dashboard
time, day bucket and export row drawn in it with the zone named. The API and operators keep UTC."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_create, account_update_settings, api_key_create
from accounts.time_zones import time_zone_get, time_zone_label, time_zone_validate
from generations.models import Generation
from tests.conftest import ApiClient
from tests.dashboard.helpers import completed_generation, make_shop
from tests.images import jpeg_bytes

D = "/dashboard/generations/generation"
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MADE = datetime(2026, 12, 2, 13, 3, tzinfo=UTC)
LATE = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 December in Paris


def _at(generation: Generation, moment: datetime) -> Generation:
    Generation.objects.filter(pk=generation.pk).update(created_at=moment)
    generation.refresh_from_db()
    return generation


def _zone(account: Account, name: str) -> None:
    account_update_settings(account=account, time_zone=name)


# --- the field ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"])
def test_iana_names_are_accepted(name):
    time_zone_validate(name)
    assert time_zone_get(name).key == name


@pytest.mark.parametrize("name", ["", "Mars/Olympus_Mons", "+02:00", "CET+1", "../../etc/passwd", "europe/paris"])
def test_anything_else_is_refused(name):
    with pytest.raises(ValidationError) as raised:
        time_zone_validate(name)
    assert raised.value.code == "invalid_time_zone"


def test_a_stored_name_the_database_no_longer_knows_reads_as_utc():
    assert time_zone_get("Atlantis/Capital").key == "UTC"


def test_labels_use_the_abbreviation_or_else_the_iana_name():
    assert time_zone_label(MADE.astimezone(time_zone_get("Europe/Paris"))) == "CET"
    assert time_zone_label(datetime(2026, 7, 1, tzinfo=UTC).astimezone(time_zone_get("Europe/Paris"))) == "CEST"
    assert time_zone_label(MADE.astimezone(time_zone_get("UTC"))) == "UTC"
    # The database has no letters for Dubai ("+04"): the place is named instead.
    assert time_zone_label(MADE.astimezone(time_zone_get("Asia/Dubai"))) == "Asia/Dubai"


def test_new_accounts_default_to_utc_and_the_services_refuse_a_bad_zone(db):
    account = account_create(name="tz-shop")
    assert account.time_zone == "UTC"
    with pytest.raises(ValidationError):
        account_update_settings(account=account, time_zone="Mars/Olympus_Mons", customer_retention_days=1)
    account.refresh_from_db()
    assert (account.time_zone, account.customer_retention_days) == ("UTC", 7)  # nothing saved
    with pytest.raises(ValidationError):
        account_create(name="tz-bad", time_zone="Nowhere/Else")
    assert not Account.objects.filter(name="tz-bad").exists()
    assert account_create(name="tz-paris", time_zone="Europe/Paris").time_zone == "Europe/Paris"


# --- who edits it ------------------------------------------------------------------------------------------------
def test_the_merchant_sets_its_time_zone_on_its_account_page(alpha, beta):
    alice = alpha.login()
    url = f"/dashboard/accounts/account/{alpha.account.pk}/change/"
    page = alice.get(url).content.decode()
    assert '<select name="time_zone"' in page and '<option value="Europe/Paris">Europe/Paris</option>' in page
    bad = alice.post(url, {"customer_retention_days": 7, "time_zone": "Mars/Olympus_Mons", "_save": "Save"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert Account.objects.get(pk=alpha.account.pk).time_zone == "UTC"
    saved = alice.post(url, {"customer_retention_days": 7, "time_zone": "America/New_York", "_save": "Save"})
    assert saved.status_code == 302
    assert Account.objects.get(pk=alpha.account.pk).time_zone == "America/New_York"
    # Another merchant's account stays out of reach, and its zone unchanged.
    other = f"/dashboard/accounts/account/{beta.account.pk}/change/"
    assert alice.post(other, {"customer_retention_days": 7, "time_zone": "Asia/Tokyo"}).status_code == 404
    assert Account.objects.get(pk=beta.account.pk).time_zone == "UTC"


def test_an_operator_sets_any_account_time_zone(alpha, operator):
    url = f"/dashboard/accounts/account/{alpha.account.pk}/change/"
    form = {
        "name": alpha.account.name,
        "is_active": "on",
        "rate_limit_per_minute": 100,
        "customer_retention_days": 7,
        "engine": "",
        "time_zone": "Asia/Tokyo",
        "_save": "Save",
    }
    assert operator.post(url, form).status_code == 302
    assert Account.objects.get(pk=alpha.account.pk).time_zone == "Asia/Tokyo"
    listed = operator.get("/dashboard/accounts/account/").content.decode()
    assert "Asia/Tokyo" in listed


# --- every page in the account's zone ----------------------------------------------------------------------------
def test_generation_pages_show_the_account_zone_named(alpha, operator):
    generation = _at(alpha.generation, MADE)
    _zone(alpha.account, "Europe/Paris")
    alice = alpha.login()
    detail = alice.get(f"{D}/{quote(generation.pk)}/change/").content.decode()
    assert "2 Dec 2026, 14:03 CET" in detail
    gallery = alice.get(f"{D}/").content.decode()
    assert "2 Dec 2026, 14:03 CET" in gallery and "13:03 UTC" not in gallery
    # The zone was only active for that request: nothing leaks into the next one on this thread.
    assert timezone.get_current_timezone_name() == "UTC"
    # Operators see many accounts at once and keep the server's zone, named.
    assert "2 Dec 2026, 13:03 UTC" in operator.get(f"{D}/{quote(generation.pk)}/change/").content.decode()
    # The API speaks UTC whatever the account's zone.
    api = ApiClient(api_key_create(account=alpha.account, name="tz")[1])
    assert api.get(f"/tryon/v1/generations/{generation.pk}").json()["createdAt"] == "2026-12-02T13:03:00.000Z"


def test_a_zone_without_letters_is_named_by_its_iana_name(alpha):
    generation = _at(alpha.generation, MADE)
    _zone(alpha.account, "Asia/Dubai")
    detail = alpha.login().get(f"{D}/{quote(generation.pk)}/change/").content.decode()
    assert "2 Dec 2026, 17:03 Asia/Dubai" in detail


def test_product_and_customer_pages_use_the_account_zone(alpha):
    _at(alpha.generation, MADE)
    _zone(alpha.account, "Asia/Tokyo")
    alice = alpha.login()
    product = alice.get(f"/dashboard/products/product/{quote(alpha.product.pk)}/change/").content.decode()
    assert "2 Dec 2026, 22:03 JST" in product
    customer = alice.get(f"{D}/customers/view/", {"id": "alpha-shopper"}).content.decode()
    assert "2 Dec 2026, 22:03 JST" in customer
    searched = alice.get(f"{D}/customers/", {"q": "alpha"}).content.decode()
    assert "2 Dec 2026, 22:03 JST" in searched


def _late_generation(shop) -> Generation:
    return _at(
        completed_generation(account=shop.account, person=jpeg_bytes(), result=jpeg_bytes(), external_id="late"), LATE
    )


@pytest.mark.parametrize(
    ("zone", "late_day", "dec_1", "dec_2"),
    [("Europe/Paris", "12-02", (0, 0), (2, 1)), ("UTC", "12-01", (1, 0), (1, 1))],
)
def test_overview_day_buckets_follow_the_account_zone(db, zone, late_day, dec_1, dec_2):
    with time_machine.travel(NOON, tick=False):
        shop = make_shop("tzview")
        _late_generation(shop)
        _zone(shop.account, zone)
        page = shop.login().get(f"{D}/overview/")
        stats = page.context["stats"]
        by_label = {day.label: (day.completed, day.failed) for day in stats["days"]}
        assert (by_label["12-01"], by_label["12-02"]) == (dec_1, dec_2)
        assert stats["today"] == sum(dec_2)  # "today" starts at the account's midnight
        html = page.content.decode()
        assert f"Generations per day (last 30 days, {zone})" in html
        assert f'data-day="{late_day}"' in html


def test_csv_export_and_its_date_range_use_the_account_zone(db):
    with time_machine.travel(NOON, tick=False):
        shop = make_shop("tzcsv")
        late = _late_generation(shop)
        _zone(shop.account, "Europe/Paris")
        client = shop.login()
        response = client.get(f"{D}/export.csv", {"created_from": "2026-12-02"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        header, by_id = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
        assert header[-1] == "time_zone"
        # 23:30 UTC on 1 December is 2 December in Paris: inside the range, written with its offset and zone.
        assert set(by_id) == {late.pk, shop.generation.pk, shop.failed.pk}
        assert (by_id[late.pk]["created_at"], by_id[late.pk]["time_zone"]) == (
            "2026-12-02T00:30:00+01:00",
            "Europe/Paris",
        )
        assert by_id[shop.generation.pk]["created_at"] == "2026-12-02T13:00:00+01:00"
        _zone(shop.account, "UTC")
        utc = client.get(f"{D}/export.csv", {"created_from": "2026-12-02"})
        rows = list(csv.reader(io.StringIO(b"".join(utc.streaming_content).decode())))
        assert {row[0] for row in rows[1:]} == {shop.generation.pk, shop.failed.pk}  # the late one is 1 December
        assert {row[-1] for row in rows[1:]} == {"UTC"}


def test_create_account_takes_a_time_zone(db):
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("create_account", "tz-cli", "--time-zone", "Australia/Sydney", stdout=out)
    assert out.getvalue().startswith("tok_")
    assert Account.objects.get(name="tz-cli").time_zone == "Australia/Sydney"
    with pytest.raises(CommandError, match="not an IANA time zone"):
        call_command("create_account", "tz-cli-bad", "--time-zone", "GMT+5", stdout=io.StringIO())
    assert not Account.objects.filter(name="tz-cli-bad").exists()
