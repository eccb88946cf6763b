"""The dashboard: endpoint with a secret shown once, rotation, the delivery log and redelivery, all scoped."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.services import dashboard_user_create
from generations.models import Generation
from tests.factories import AccountFactory
from tests.webhooks.receiver import verify
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_events_enqueue

SECRET = re.compile(r"<code class='new-webhook-secret'>(whsec_[A-Za-z0-9+/=]+)</code>")
ENDPOINTS = "/dashboard/webhooks/webhookendpoint/"
DELIVERIES = "/dashboard/webhooks/webhookdelivery/"


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=f"pw-{username}-12345")
    return client


@pytest.fixture
def shops(db):
    alpha, beta = AccountFactory(name="alpha-shop"), AccountFactory(name="beta-shop")
    dashboard_user_create(account=alpha, username="alice", password="pw-alice-12345")
    dashboard_user_create(account=beta, username="bob", password="pw-bob-12345")
    return alpha, beta


def _finished(account, *, status: str = "COMPLETED") -> Generation:
    extra = {"error_code": "ENGINE_ERROR", "error_message": "boom"} if status == "FAILED" else {}
    return Generation.objects.create(account=account, product_external_id="shirt-42", status=status, **extra)


def _event(account, capture, *, status: str = "COMPLETED") -> WebhookDelivery:
    generation = _finished(account, status=status)
    with capture(execute=True):
        webhook_events_enqueue(generation_id=generation.id)
    return WebhookDelivery.objects.get(generation=generation)


def test_merchant_creates_the_endpoint_and_sees_the_secret_once(
    shops, receiver, eager, django_capture_on_commit_callbacks
):
    _, beta = shops
    bob = _login("bob")
    assert bob.get(f"{ENDPOINTS}add/").status_code == 200
    response = bob.post(f"{ENDPOINTS}add/", {"url": receiver.url("/bob"), "is_enabled": "on"}, follow=True)
    [secret] = SECRET.findall(response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.account, endpoint.url, endpoint.is_enabled) == (beta, receiver.url("/bob"), True)
    assert receiver.received == []  # saving does not contact the URL

    change = bob.get(f"{ENDPOINTS}{quote(endpoint.pk)}/change/").content.decode()
    listing = bob.get(ENDPOINTS).content.decode()
    for page in (change, listing):
        assert secret not in page and "new-webhook-secret" not in page
    assert bob.get(f"{ENDPOINTS}add/").status_code == 403  # one endpoint per account

    delivery = _event(beta, django_capture_on_commit_callbacks)
    [received] = receiver.received
    assert received.headers["webhook-id"] == delivery.id
    assert verify(secret=secret, headers=received.headers, body=received.body)


def test_rotation_shows_the_new_secret_once_and_signs_with_both(
    shops, receiver, eager, django_capture_on_commit_callbacks
):
    alpha, _ = shops
    endpoint, first = webhook_endpoint_create(account=alpha, url=receiver.url("/alpha"))
    alice = _login("alice")
    response = alice.post(ENDPOINTS, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True)
    [second] = SECRET.findall(response.content.decode())
    assert second != first
    assert second not in alice.get(ENDPOINTS).content.decode()

    _event(alpha, django_capture_on_commit_callbacks)
    [received] = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify(secret=second, headers=received.headers, body=received.body)
    assert verify(secret=first, headers=received.headers, body=received.body)


def test_delivery_log_shows_attempts_and_redelivers(
    shops, receiver, eager, no_wait, django_capture_on_commit_callbacks
):
    alpha, _ = shops
    webhook_endpoint_create(account=alpha, url=receiver.url("/alpha"))
    receiver.answers = [(500, {})]
    delivery = _event(alpha, django_capture_on_commit_callbacks, status="FAILED")
    alice = _login("alice")

    listing = alice.get(DELIVERIES).content.decode()
    assert delivery.id in listing and "generation.failed" in listing
    page = alice.get(f"{DELIVERIES}{quote(delivery.id)}/change/").content.decode()
    assert "http_status" in page and "500" in page and "200" in page
    assert receiver.url("/alpha") in page  # the merchant sees its own target

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.id]}, follow=True)
    assert "1 delivery(ies) queued for redelivery" in response.content.decode()
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.id] * 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


def test_merchants_see_and_touch_only_their_own(shops, receiver, eager, django_capture_on_commit_callbacks):
    alpha, beta = shops
    alpha_endpoint, _ = webhook_endpoint_create(account=alpha, url=receiver.url("/alpha"))
    alpha_delivery = _event(alpha, django_capture_on_commit_callbacks)
    webhook_endpoint_create(account=beta, url=receiver.url("/beta"))
    beta_delivery = _event(beta, django_capture_on_commit_callbacks)
    bob = _login("bob")

    assert alpha_delivery.id not in bob.get(DELIVERIES).content.decode()
    assert beta_delivery.id in bob.get(DELIVERIES).content.decode()
    assert receiver.url("/alpha") not in bob.get(ENDPOINTS).content.decode()
    assert bob.get(f"{ENDPOINTS}{quote(alpha_endpoint.pk)}/change/").status_code == 404
    assert bob.get(f"{DELIVERIES}{quote(alpha_delivery.id)}/change/").status_code == 404

    sent_before = len(receiver.received)
    with django_capture_on_commit_callbacks(execute=True):
        bob.post(DELIVERIES, {"action": "redeliver", "_selected_action": [alpha_delivery.id]})
        bob.post(ENDPOINTS, {"action": "rotate_secret", "_selected_action": [alpha_endpoint.pk]})
        bob.post(f"{ENDPOINTS}{quote(alpha_endpoint.pk)}/change/", {"url": receiver.url("/stolen"), "is_enabled": "on"})
    assert len(receiver.received) == sent_before
    alpha_endpoint_after = WebhookEndpoint.objects.get(pk=alpha_endpoint.pk)
    assert alpha_endpoint_after.url == receiver.url("/alpha")
    assert alpha_endpoint_after.secret_encrypted == alpha_endpoint.secret_encrypted
    assert WebhookDelivery.objects.get(pk=alpha_delivery.pk).attempts == 1


def test_operator_sees_every_account(shops, receiver):
    alpha, beta = shops
    webhook_endpoint_create(account=alpha, url=receiver.url("/alpha"))
    webhook_endpoint_create(account=beta, url=receiver.url("/beta"))
    get_user_model().objects.create_superuser(username="op", password="pw-op-12345", email="")
    op = _login("op")
    listing = op.get(ENDPOINTS).content.decode()
    assert "alpha-shop" in listing and "beta-shop" in listing
