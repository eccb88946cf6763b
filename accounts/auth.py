"""DRF authentication by the `x-api-key` header (never the query string)."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from accounts.selectors import api_key_resolve
from accounts.services import api_key_touch
from tryon_project.api.errors import ApiError, ErrorCode

HEADER = "x-api-key"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        plain = request.headers.get(HEADER, "")
        if not plain:
            raise ApiError(ErrorCode.MISSING_API_KEY, "Missing x-api-key header.")
        api_key = api_key_resolve(plain=plain.strip())
        if api_key is None:
            raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key.")
        api_key_touch(api_key=api_key)
        # The account is what every API view works with; `request.user` stays the account for DRF's checks.
        return api_key.account, api_key

    def authenticate_header(self, request) -> str:
        return "ApiKey"


class HasAccount(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user is not None


def request_account(request):
    """The authenticated merchant account of an API request."""
    return request.user
