"""The dashboard shows a merchant's times and days in its account's time zone.

Django renders aware datetimes in the *active* zone; this middleware activates the signed-in merchant's zone for
the dashboard's requests and deactivates it afterwards, so one request's zone never leaks into the next one
served by the same thread. Operators see several accounts at once and keep the server's zone (``TIME_ZONE``).
The API is untouched: it speaks UTC (ISO 8601 with ``Z``) whatever the account's zone."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.admin_scoping import is_operator, request_account
from accounts.time_zones import time_zone_get


def _dashboard_prefix() -> str:
    return reverse("admin:index")


class DashboardTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        account = self._account(request)
        if account is None:
            return self.get_response(request)
        timezone.activate(time_zone_get(account.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _account(request: HttpRequest):
        if not request.path.startswith(_dashboard_prefix()):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_operator(request):
            return None
        return request_account(request)
