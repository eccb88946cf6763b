"""A webhook URL the outbound rules refuse is refused when it is given, and never contacted."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from accounts.models import Account, CreditLedgerEntry
from accounts.services import dashboard_user_create
from generations.models import Generation
from tests.webhooks.helpers import TRYON, tryon_body
from webhooks.models import WebhookEndpoint

BLOCKED = [
    ("http://127.0.0.1:1/", ("127.0.0.1", 1), "port"),
    ("http://127.0.0.1/hook", ("127.0.0.1", 80), "address"),
    ("http://169.254.169.254/latest/meta-data/", ("169.254.169.254", 80), "address"),
    ("http://[::ffff:10.0.0.5]/", ("::ffff:10.0.0.5", 80), "address"),
    ("http://10.1.2.3:443/", ("10.1.2.3", 443), "address"),
    ("ftp://example.com/hook", None, "http and https"),
    ("http://user:pw@example.com/hook", None, "credentials"),
    ("not a url", None, "not valid"),
]


def _contacted(connects: list, target: tuple | None) -> bool:
    if target is None:  # refused before any name resolution: nothing but the database and Redis was reached
        return any(port not in (5432, 6379) for _, port in connects)
    return target in connects


@pytest.mark.parametrize("url, target, message", BLOCKED)
@pytest.mark.parametrize("path", [TRYON, f"{TRYON}/sync"])
def test_per_call_webhook_url_refused_with_400_and_nothing_created(
    api, account, person_id, connects, path, url, target, message, django_capture_on_commit_callbacks
):
    body = {
        "product": {"externalId": "s", "title": "Tee", "images": [{"url": "https://cdn.example.com/s.jpg"}]},
        "customer": {"id": person_id},
        "webhookUrl": url,
    }
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post_json(path, body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert (error["code"], error["status"]) == ("VALIDATION_FAILED", 400)
    assert [d["path"] for d in error["details"]] == ["webhookUrl"]
    assert message in error["details"][0]["message"]
    assert callbacks == []
    assert not Generation.objects.exists()
    assert Account.objects.get(pk=account.pk).credit_balance == 10
    assert not CreditLedgerEntry.objects.filter(kind="reserve").exists()
    assert not WebhookEndpoint.objects.exists()
    assert not _contacted(connects, target)


def test_metadata_address_stays_refused_inside_an_allowed_range(api, person_id, connects, settings):
    settings.TRYON_FETCH_ALLOW_NETWORKS = ["169.254.0.0/16"]
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "s", "title": "Tee", "images": [{"url": "https://cdn.example.com/s.jpg"}]},
            "customer": {"id": person_id},
            "webhookUrl": "http://169.254.169.254/",
        },
    )
    assert response.status_code == 400
    assert ("169.254.169.254", 80) not in connects


def test_allowed_per_call_url_is_accepted_without_being_contacted(
    api, receiver, person_id, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = api.post_json(TRYON, tryon_body(receiver, person_id, webhook_url=receiver.url("/later")))
    assert response.status_code == 202
    assert receiver.received == []


@pytest.fixture
def merchant(account) -> Client:
    dashboard_user_create(account=account, username="mia", password="pw-mia-12345")
    client = Client()
    assert client.login(username="mia", password="pw-mia-12345")
    return client


ADD = "/dashboard/webhooks/webhookendpoint/add/"


@pytest.mark.parametrize("url, target, message", [b for b in BLOCKED if b[0] != "not a url"])
def test_dashboard_refuses_a_blocked_endpoint_url(merchant, connects, url, target, message):
    response = merchant.post(ADD, {"url": url, "is_enabled": "on"})
    assert response.status_code == 200  # the form again, with its error
    html = response.content.decode()
    assert "errorlist" in html
    assert not WebhookEndpoint.objects.exists()
    assert "new-webhook-secret" not in html
    assert not _contacted(connects, target)


def test_dashboard_refuses_a_blocked_url_on_change(merchant, account, receiver, connects):
    from webhooks.services import webhook_endpoint_create

    endpoint, _ = webhook_endpoint_create(account=account, url=receiver.url("/ok"))
    response = merchant.post(
        f"/dashboard/webhooks/webhookendpoint/{quote(endpoint.pk)}/change/",
        {"url": "http://169.254.169.254/", "is_enabled": "on"},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url("/ok")
    assert ("169.254.169.254", 80) not in connects
    assert receiver.received == []
