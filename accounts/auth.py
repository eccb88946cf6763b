"""DRF authentication by the `x-api-key` header, or `Authorization: Bearer` as its alias (never the query string).

The key lookup is cached in process memory (accounts/key_cache.py): a poll with a known key costs no key query."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from accounts.key_cache import api_key_cache_get, api_key_cache_set, api_key_cache_version
from accounts.keys import key_hash
from accounts.models import ApiKey
from accounts.selectors import api_key_resolve
from accounts.services import API_KEY_TOUCH_INTERVAL, api_key_touch
from tryon_project.api.errors import ApiError, ErrorCode

HEADER = "x-api-key"
_BEARER = "bearer "


def api_key_from_headers(*, headers) -> str:
    """The key a request presents: `x-api-key`, else an `Authorization: Bearer <key>` header (what clients of
    other try-on APIs send first). Empty when neither is there."""
    plain = headers.get(HEADER, "").strip()
    if plain:
        return plain
    authorization = headers.get("Authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip()
    return ""


def api_key_authenticate(*, plain: str) -> ApiKey | None:
    """The active key with its account, from the cache when it holds a fresh entry. An entry whose key is due a
    `last_used_at` write is read again from the database (at most once a minute per key), so the write and the
    cached copy stay honest."""
    api_key = api_key_cache_get(digest=key_hash(plain))
    if api_key is not None and not _touch_due(api_key=api_key):
        return api_key
    # The cache's version is read before the database, so a change committed in between is not cached as fresh.
    version = api_key_cache_version()
    api_key = api_key_resolve(plain=plain)
    if api_key is None:
        return None
    api_key_touch(api_key=api_key)
    api_key_cache_set(api_key=api_key, version=version)
    return api_key


def _touch_due(*, api_key: ApiKey) -> bool:
    return api_key.last_used_at is None or timezone.now() - api_key.last_used_at >= API_KEY_TOUCH_INTERVAL


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        plain = api_key_from_headers(headers=request.headers)
        if not plain:
            raise ApiError(ErrorCode.MISSING_API_KEY, "Missing x-api-key header.")
        api_key = api_key_authenticate(plain=plain)
        if api_key is None:
            raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key.")
        # The account is what every API view works with; `request.user` stays the account for DRF's checks.
        return api_key.account, api_key

    def authenticate_header(self, request) -> str:
        return "ApiKey"


class HasAccount(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user is not None


def authenticated_account(request):
    """The merchant account an API request authenticated as (by its key). The dashboard's counterpart, for a
    signed-in user, is `accounts.admin_scoping.request_account`."""
    return request.user
