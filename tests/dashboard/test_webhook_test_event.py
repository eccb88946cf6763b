""" "Send test event" on the webhook endpoint page: a signed `test` event, sent now, and the attempt shown."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.utils import quote

from tests.webhooks.receiver import receiver_server, verify
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import webhook_endpoint_create

E = "/dashboard/webhooks/webhookendpoint"


@pytest.fixture
def receiver(settings):
    with receiver_server() as server:
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [80, 443, server.port]
        yield server


def test_merchant_sends_a_signed_test_event_and_sees_the_attempt(alpha, beta, receiver):
    endpoint, secret = webhook_endpoint_create(account=alpha.account, url=receiver.url("/alpha"))
    alice = alpha.login()
    form = alice.get(f"{E}/{quote(endpoint.pk)}/change/").content.decode()
    assert 'id="send-test-event"' in form and "TRYON_FETCH_ALLOW_NETWORKS" in form
    page = alice.post(f"{E}/{endpoint.pk}/test-event/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-succeeded="yes"' in html and "HTTP 200" in html
    [received] = receiver.received
    assert received.path == "/alpha"
    assert verify(secret=secret, headers=received.headers, body=received.body)
    assert received.headers["webhook-id"] in html
    event = json.loads(received.body)
    assert event["type"] == "test" and event["data"]["account"] == "alpha"
    # Not a delivery: nothing queued, nothing in the log.
    assert (WebhookDelivery.objects.count(), WebhookAttempt.objects.count()) == (0, 0)
    # A receiver answering 500 is shown as not delivered, with the status.
    receiver.answers.append((500, {}))
    failed = alice.post(f"{E}/{endpoint.pk}/test-event/").content.decode()
    assert 'data-succeeded="no"' in failed and "HTTP 500" in failed and "http_500" in failed


def test_test_event_is_post_only_and_scoped(alpha, beta, receiver):
    endpoint, _ = webhook_endpoint_create(account=alpha.account, url=receiver.url("/alpha"))
    assert alpha.login().get(f"{E}/{endpoint.pk}/test-event/").status_code == 405
    assert beta.login().post(f"{E}/{endpoint.pk}/test-event/").status_code == 404
    assert receiver.received == []
