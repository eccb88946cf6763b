"""Dashboard login throttling: the real login form, posted as a browser would, from given client addresses."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.utils import timezone

from accounts.services import dashboard_user_create
from tests.factories import AccountFactory

LOGIN = "/dashboard/login/"
PASSWORD = "pw-carla-12345"


@pytest.fixture
def merchant(db):
    return dashboard_user_create(account=AccountFactory(name="carla-shop"), username="carla", password=PASSWORD)


def _attempt(password: str, *, ip: str = "203.0.113.7", username: str = "carla"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/dashboard/"})
    return client, response


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_after_five_failures(merchant, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        client, response = _attempt("wrong")
        assert response.status_code == 200 and not _logged_in(client)  # the form again, with its error
    client, response = _attempt("wrong")
    assert response.status_code == 429
    client, response = _attempt(PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)
    attempt = AccessAttempt.objects.get(username="carla", ip_address="203.0.113.7")
    # The refused right password counts as one more failure: 6 recorded, each in the failure log.
    assert attempt.failures_since_start == 6
    assert AccessFailureLog.objects.filter(username="carla").count() == 6
    assert not AccessLog.objects.filter(username="carla").exists()  # no successful login was recorded


def test_thirty_wrong_passwords_never_let_a_right_one_in(merchant):
    statuses = [_attempt(f"guess-{n}")[1].status_code for n in range(30)]
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}
    client, response = _attempt(PASSWORD)
    assert response.status_code == 429 and not _logged_in(client)


def test_the_lockout_is_per_username_and_address(merchant):
    for _ in range(5):
        _attempt("wrong")
    # The same user from another address, and another user from the locked address, still sign in.
    client, response = _attempt(PASSWORD, ip="198.51.100.20")
    assert response.status_code == 302 and _logged_in(client)
    dashboard_user_create(account=AccountFactory(name="dan-shop"), username="dan", password="pw-dan-12345")
    client, response = _attempt("pw-dan-12345", username="dan")
    assert response.status_code == 302 and _logged_in(client)


def test_the_lockout_ends_after_the_cooloff(merchant, settings):
    for _ in range(5):
        _attempt("wrong")
    assert _attempt(PASSWORD)[1].status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5)):
        client, response = _attempt(PASSWORD)
        assert response.status_code == 302 and _logged_in(client)


def test_a_success_resets_the_count(merchant):
    for _ in range(4):
        _attempt("wrong")
    client, response = _attempt(PASSWORD)
    assert response.status_code == 302 and _logged_in(client)
    assert AccessLog.objects.filter(username="carla").count() == 1
    for _ in range(4):
        assert _attempt("wrong")[1].status_code == 200
    assert _attempt(PASSWORD)[1].status_code == 302


def test_logins_without_a_request_are_not_throttled(merchant):
    for _ in range(6):
        _attempt("wrong")
    # A test client's login() (no request, no address) goes straight to the password check.
    assert Client().login(username="carla", password=PASSWORD)
    assert not Client().login(username="carla", password="wrong")
