"""Dashboard login throttling, on django-axes: failed logins are recorded per (username, client address) in the
database (`axes` tables: every attempt, every failure, audited), and after DASHBOARD_LOGIN_FAILURE_LIMIT failures
that pair is locked out for DASHBOARD_LOGIN_COOLOFF_MINUTES, the right password included (429). A success resets
the count. The API is not concerned: it authenticates keys, never passwords (accounts/auth.py)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for logins that come with a request (the dashboard's login form). A call without one
    (a management command, a test client's `login()`) has no client address to throttle by and no network
    attacker behind it: it goes on to the password check unthrottled instead of failing."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
