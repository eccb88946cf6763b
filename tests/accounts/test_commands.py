from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, ApiKey, CreditLedgerEntry
from tests.conftest import ApiClient


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_account_prints_only_a_working_key(db):
    output = _run("create_account", "shop-a", "--credits", "25", "--rate-limit", "7")
    key = output.strip()
    assert output == key + "\n"
    assert key.startswith("tok_") and " " not in key
    account = Account.objects.get(name="shop-a")
    assert (account.credit_balance, account.rate_limit_per_minute) == (25, 7)
    assert CreditLedgerEntry.objects.filter(account=account, kind="topup", amount=25).count() == 1
    response = ApiClient(key).get("/tryon/v1/account/credits")
    assert response.json() == {"creditBalance": 25}
    assert response["X-RateLimit-Limit"] == "7"


def test_create_account_duplicate_name_fails_cleanly(db):
    _run("create_account", "dup")
    with pytest.raises(CommandError):
        _run("create_account", "dup")
    assert Account.objects.filter(name="dup").count() == 1


def test_create_api_key(db):
    _run("create_account", "shop-b")
    key = _run("create_api_key", "shop-b").strip()
    assert ApiKey.objects.filter(account__name="shop-b").count() == 2
    assert ApiClient(key).get("/tryon/v1/account/credits").status_code == 200
    with pytest.raises(CommandError):
        _run("create_api_key", "nobody")


def test_topup_credits(db):
    _run("create_account", "shop-c", "--credits", "1")
    assert _run("topup_credits", "shop-c", "4", "--reason", "gift").strip() == "5"
    entry = CreditLedgerEntry.objects.filter(account__name="shop-c").first()
    assert (entry.amount, entry.reason, entry.balance_after) == (4, "gift", 5)
    with pytest.raises(CommandError):
        _run("topup_credits", "shop-c", "-6")
    assert Account.objects.get(name="shop-c").credit_balance == 5


def test_bootstrap_demo_is_idempotent(db, settings, tmp_path):
    # The demo exists in embedded mode only (its refusal elsewhere is tested on its own); the suite also runs on
    # PostgreSQL settings, so the mode is the embedded one here whatever the database under the test.
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    first = _run("bootstrap_demo").strip()
    second = _run("bootstrap_demo").strip()
    assert first == second
    assert Account.objects.filter(name="demo").count() == 1
    assert ApiClient(first).get("/tryon/v1/account/credits").json() == {"creditBalance": settings.TRYON_DEMO_CREDITS}
