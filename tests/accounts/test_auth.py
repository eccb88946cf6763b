import json

import pytest

from accounts.models import ApiKey
from accounts.services import account_update_settings, api_key_revoke
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

CREDITS = "/tryon/v1/account/credits"


def test_missing_key_exact_body(anon, db):
    response = anon.get(CREDITS)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "code": "MISSING_API_KEY",
        "message": "Missing x-api-key header.",
        "status": 401,
    }


def test_empty_key_is_missing(db):
    response = ApiClient("").get(CREDITS)
    assert response.status_code == 401
    assert response.json()["code"] == "MISSING_API_KEY"


def test_unknown_key(db):
    response = ApiClient("tok_" + "x" * 43).get(CREDITS)
    assert response.status_code == 401
    assert response.json() == {"code": "INVALID_API_KEY", "message": "Invalid API key.", "status": 401}


def test_revoked_key(account, api_key):
    api_key_revoke(api_key=ApiKey.objects.get(account=account))
    response = ApiClient(api_key).get(CREDITS)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"


def test_inactive_account(account, api_key):
    account_update_settings(account=account, is_active=False)
    response = ApiClient(api_key).get(CREDITS)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("param", ["x-api-key", "api_key", "apiKey", "key"])
def test_key_in_query_string_is_never_accepted(anon, api_key, param):
    response = anon.get(CREDITS, {param: api_key})
    assert response.status_code == 401
    assert response.json()["code"] == "MISSING_API_KEY"


def test_valid_key_and_key_is_stored_hashed_only(account, api_key, api):
    response = api.get(CREDITS)
    assert response.status_code == 200
    assert response.json() == {"creditBalance": 10}
    stored = ApiKey.objects.get(account=account)
    assert api_key not in (stored.key_hash, stored.prefix)
    assert stored.prefix == api_key[:12]
    assert len(stored.key_hash) == 64
    assert stored.last_used_at is not None


def test_key_format_has_enough_entropy(account, api_key):
    assert api_key.startswith("tok_")
    assert len(api_key) >= 4 + 43  # 32 random bytes, url-safe base64


def test_key_of_one_account_never_reads_another(db):
    first, second = AccountFactory(credits=3), AccountFactory(credits=8)
    assert ApiClient(api_key_for(first)).get(CREDITS).json() == {"creditBalance": 3}
    assert ApiClient(api_key_for(second)).get(CREDITS).json() == {"creditBalance": 8}


def test_trailing_slash_is_optional(api):
    assert api.get(CREDITS + "/").status_code == 200
