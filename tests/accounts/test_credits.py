import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account, CreditLedgerEntry, LedgerKind
from accounts.services import CreditError, credits_refund, credits_reserve, credits_topup
from tryon_project.api.errors import ApiError, ErrorCode


def test_credits_endpoint_reflects_ledger(api, account):
    credits_topup(account=account, amount=5, reason="promo")
    assert api.get("/tryon/v1/account/credits").json() == {"creditBalance": 15}


def test_reserve_and_refund_exactly_once(account):
    with transaction.atomic():
        credits_reserve(account=account, generation_ref="gen_a")
    account.refresh_from_db()
    assert account.credit_balance == 9
    assert credits_refund(account_id=account.pk, generation_ref="gen_a") is True
    assert credits_refund(account_id=account.pk, generation_ref="gen_a") is False
    account.refresh_from_db()
    assert account.credit_balance == 10
    kinds = list(
        CreditLedgerEntry.objects.filter(generation_ref="gen_a").values_list("kind", "amount", "balance_after")
    )
    assert sorted(kinds) == [(LedgerKind.REFUND, 1, 10), (LedgerKind.RESERVE, -1, 9)]


def test_refund_without_reserve_does_nothing(account):
    assert credits_refund(account_id=account.pk, generation_ref="gen_free") is False
    account.refresh_from_db()
    assert account.credit_balance == 10
    assert not CreditLedgerEntry.objects.filter(generation_ref="gen_free").exists()


def test_reserve_at_zero_raises_and_writes_nothing(db):
    account = Account.objects.create(name="broke")
    with pytest.raises(ApiError) as caught:
        credits_reserve(account=account, generation_ref="gen_b")
    assert caught.value.code is ErrorCode.INSUFFICIENT_CREDITS
    assert not CreditLedgerEntry.objects.exists()
    account.refresh_from_db()
    assert account.credit_balance == 0


def test_second_reserve_for_same_generation_is_refused(account):
    credits_reserve(account=account, generation_ref="gen_c")
    with pytest.raises(IntegrityError), transaction.atomic():
        credits_reserve(account=account, generation_ref="gen_c")


def test_balance_never_negative_at_database_level(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(credit_balance=-1)


def test_negative_topup_below_zero_refused(account):
    with pytest.raises(CreditError):
        credits_topup(account=account, amount=-11, reason="correction")
    account.refresh_from_db()
    assert account.credit_balance == 10
    assert CreditLedgerEntry.objects.filter(account=account).count() == 1
