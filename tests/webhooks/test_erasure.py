"""Erasure of an end user forgets the per-call webhook URLs of their generations (they often carry the customer id):
the generation rows and the delivery log keep no copy, and no later attempt contacts them."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from generations.models import Generation
from tests.images import jpeg_bytes
from tests.webhooks.helpers import TRYON, tryon_body
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import webhook_delivery_attempt

pytestmark = pytest.mark.usefixtures("eager", "fake_engine")

DELIVERIES = "/dashboard/webhooks/webhookdelivery/"


def _upload(api, customer_id: str) -> str:
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false", "customerId": customer_id})
    assert response.status_code == 201
    return response.json()["imageId"]


def _tryon(api, receiver, image_id: str, customer_id: str, hook: str) -> str:
    body = {**tryon_body(receiver, image_id, webhook_url=receiver.url(hook)), "customerId": customer_id}
    response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    return response.json()["generationId"]


def test_erasure_clears_webhook_urls_and_the_delivery_logs_target(
    api, account, receiver, settings, django_capture_on_commit_callbacks
):
    # One retry, far enough out to be left to the sweep: the failed first attempt stays pending.
    settings.TRYON_WEBHOOK_RETRY_SCHEDULE = [3600]
    receiver.answers = [(500, {})]
    with django_capture_on_commit_callbacks(execute=True):
        done = _tryon(api, receiver, _upload(api, "user-7"), "user-7", "/hook?customer=user-7")
    in_flight = _tryon(api, receiver, _upload(api, "user-7"), "user-7", "/hook?customer=user-7&n=2")  # not run
    other = _tryon(api, receiver, _upload(api, "user-8"), "user-8", "/hook?customer=user-8")
    delivery = WebhookDelivery.objects.get(generation_id=done)
    assert (delivery.target, delivery.status, delivery.attempts) == ("call", "pending", 1)
    assert [r.path for r in receiver.received] == ["/hook?customer=user-7"]

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/tryon/v1/customers/user-7").status_code == 204

    assert Generation.objects.filter(webhook_url__contains="user-7").count() == 0
    assert list(Generation.objects.filter(id__in=[done, in_flight]).values_list("webhook_url", flat=True)) == ["", ""]
    assert Generation.objects.get(id=other).webhook_url == receiver.url("/hook?customer=user-8")
    # The generation failed by the erasure has no per-call event: its URL was gone before it became terminal.
    assert Generation.objects.get(id=in_flight).status == "FAILED"
    assert not WebhookDelivery.objects.filter(generation_id=in_flight).exists()

    operator = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-12345")
    client = Client()
    client.force_login(operator)
    page = client.get(f"{DELIVERIES}{quote(delivery.id)}/change/").content.decode()
    assert delivery.id in page
    assert "user-7" not in page and "erased with the end user" in page

    # The pending retry comes due: it contacts nothing and ends failed.
    WebhookDelivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())
    outcome = webhook_delivery_attempt(delivery_id=delivery.id)
    assert (outcome.status, outcome.error) == ("failed", "no_target")
    assert [r.path for r in receiver.received] == ["/hook?customer=user-7"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 2, "no_target")
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("error", flat=True)) == [
        "http_status",
        "no_target",
    ]
