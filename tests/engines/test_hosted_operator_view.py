"""The operator's view of an account's engine: engine, model id, licence and the provider's last error, on the
account's dashboard page, fed by the selector."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client

from engines.base import EngineError, EngineErrorCode
from generations.models import EngineProviderError
from generations.selectors import account_engine_status
from generations.services.provider import engine_provider_error_record
from tests.factories import AccountFactory


@pytest.fixture
def operator(db, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_superuser(username="ops", password="pw-ops-123", email="")
    client = Client()
    assert client.login(username="ops", password="pw-ops-123")
    return client


def test_selector_describes_each_engine(db, settings):
    settings.TRYON_GEMINI_MODEL = "gemini-3-pro-image"
    account = AccountFactory(engine="gemini")
    status = account_engine_status(account=account)
    assert (status.engine, status.model_id, status.licence, status.last_error) == (
        "gemini",
        "gemini-3-pro-image",
        "Google Gemini API terms",
        None,
    )
    settings.TRYON_REPLICATE_PRESET = "leffa"
    settings.TRYON_REPLICATE_MODEL = "owner/leffa"
    account.engine = "replicate"
    status = account_engine_status(account=account)
    assert (status.model_id, status.licence) == ("owner/leffa", "Leffa: MIT")


def test_only_provider_errors_are_recorded_and_the_last_one_wins(db):
    account = AccountFactory(engine="fashn")
    input_error = EngineError(EngineErrorCode.PERSON_NOT_DETECTED, "no person")
    assert not engine_provider_error_record(account_id=account.pk, engine="fashn", model_id="m", error=input_error)
    assert not EngineProviderError.objects.exists()

    for message in ("first", "The FASHN account has no credits left."):
        engine_provider_error_record(
            account_id=account.pk,
            engine="fashn",
            model_id="tryon-v1.6",
            error=EngineError(EngineErrorCode.ENGINE_QUOTA_EXCEEDED, message),
        )

    [row] = EngineProviderError.objects.all()
    assert (row.code, row.message, row.model_id) == (
        "ENGINE_QUOTA_EXCEEDED",
        "The FASHN account has no credits left.",
        "tryon-v1.6",
    )
    assert account_engine_status(account=account).last_error == row


def test_account_page_shows_engine_model_licence_and_last_error(operator, settings):
    settings.TRYON_COG_PRESET = "idm-vton"
    account = AccountFactory(engine="cog")
    EngineProviderError.objects.create(
        account=account,
        engine="cog",
        model_id="cog:idm-vton",
        code="GENERATION_TIMEOUT",
        message="The Cog model did not finish within 60 s",
        occurred_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )

    response = operator.get(f"/dashboard/accounts/account/{quote(account.pk)}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Engine status" in page
    assert "IDM-VTON: CC BY-NC-SA 4.0" in page
    assert "GENERATION_TIMEOUT at 1 Dec 2026, 10:30 UTC: The Cog model did not finish within 60 s" in page
    # Another account's error is not shown on this one.
    other = AccountFactory(engine="cog")
    assert (
        "GENERATION_TIMEOUT"
        not in operator.get(f"/dashboard/accounts/account/{quote(other.pk)}/change/").content.decode()
    )
