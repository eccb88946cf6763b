"""Events, signatures, retries and the delivery log, end to end through the API, the worker and a receiver."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from generations.models import Generation
from generations.services.lifecycle import generation_fail
from tests.generations.helpers import terminal
from tests.webhooks.helpers import current_secret, endpoint_for, event, run_tryon
from tests.webhooks.receiver import verify
from tryon_project.api.errors import GenerationErrorCode
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_delivery_redeliver, webhook_events_enqueue

pytestmark = pytest.mark.usefixtures("eager", "fake_engine")


def test_completed_event_is_signed_as_documented(api, account, receiver, person_id, django_capture_on_commit_callbacks):
    secret = endpoint_for(account, receiver.url("/hook"))
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)

    [received] = receiver.received
    assert received.path == "/hook"
    assert received.headers["content-type"] == "application/json"
    assert verify(secret=secret, headers=received.headers, body=received.body)
    assert not verify(secret=secret, headers=received.headers, body=received.body + b" ")
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert received.headers["webhook-id"] == delivery.id and delivery.id.startswith("msg_")
    assert abs(int(received.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert received.headers["webhook-signature"].startswith("v1,") and " " not in received.headers["webhook-signature"]

    body = event(received)
    assert set(body) == {"type", "createdAt", "data"}
    assert body["type"] == "generation.completed"
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    poll = api.get(f"/tryon/v1/generations/{generation_id}").json()
    assert set(body["data"]) == set(poll)
    signed_fresh = {"resultImageUrl", "resultImageExpiresAt"}
    assert {k: v for k, v in body["data"].items() if k not in signed_fresh} == {
        k: v for k, v in poll.items() if k not in signed_fresh
    }
    assert body["data"]["status"] == "COMPLETED" and body["data"]["resultImageUrl"]

    assert (delivery.status, delivery.attempts, delivery.target, delivery.event_type) == (
        "delivered",
        1,
        "endpoint",
        "generation.completed",
    )
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error, attempt.succeeded) == (1, 200, "", True)
    assert attempt.account_id == account.pk and attempt.latency_ms >= 0


def test_failed_generation_fires_failed_event_to_the_per_call_url(
    api, account, receiver, person_id, fake_engine, django_capture_on_commit_callbacks
):
    fake_engine.errors = [terminal()]
    generation_id = run_tryon(
        api, django_capture_on_commit_callbacks, receiver, person_id, webhook_url=receiver.url("/once")
    )

    [received] = receiver.received
    assert received.path == "/once"
    body = event(received)
    assert body["type"] == "generation.failed"
    assert body["data"]["generationId"] == generation_id
    assert (body["data"]["status"], body["data"]["errorCode"], body["data"]["errorMessage"]) == (
        "FAILED",
        "PERSON_NOT_DETECTED",
        "no person",
    )
    assert "resultImageUrl" not in body["data"]
    # No endpoint was set up: the account got one without a URL, whose secret signs per-call deliveries.
    endpoint = WebhookEndpoint.objects.get(account=account)
    assert endpoint.url == ""
    assert verify(secret=current_secret(account), headers=received.headers, body=received.body)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert (delivery.target, delivery.status) == ("call", "delivered")


def test_mock_generation_fires_completed_event(api, account, receiver, person_id, django_capture_on_commit_callbacks):
    generation_id = run_tryon(
        api, django_capture_on_commit_callbacks, receiver, person_id, title="mock", webhook_url=receiver.url("/mock")
    )
    [received] = receiver.received
    assert (event(received)["type"], event(received)["data"]["generationId"]) == ("generation.completed", generation_id)


def test_exactly_once_per_target(api, account, receiver, person_id, django_capture_on_commit_callbacks):
    endpoint_for(account, receiver.url("/account"))
    generation_id = run_tryon(
        api, django_capture_on_commit_callbacks, receiver, person_id, webhook_url=receiver.url("/call")
    )

    assert sorted(r.path for r in receiver.received) == ["/account", "/call"]
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 2
    assert sorted(WebhookDelivery.objects.filter(generation_id=generation_id).values_list("target", flat=True)) == [
        "call",
        "endpoint",
    ]
    # The same event asked for again, and a late failure of the finished generation: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_enqueue(generation_id=generation_id) == []
        assert (
            generation_fail(generation_id=generation_id, code=GenerationErrorCode.ENGINE_ERROR, message="late") is False
        )
    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.filter(generation_id=generation_id).count() == 2


def test_per_call_url_equal_to_the_endpoint_is_delivered_once(
    api, account, receiver, person_id, django_capture_on_commit_callbacks
):
    endpoint_for(account, receiver.url("/same"))
    generation_id = run_tryon(
        api, django_capture_on_commit_callbacks, receiver, person_id, webhook_url=receiver.url("/same")
    )
    assert [r.path for r in receiver.received] == ["/same"]
    assert list(WebhookDelivery.objects.filter(generation_id=generation_id).values_list("target", flat=True)) == [
        "endpoint"
    ]


def test_500_twice_then_200_arrives_on_the_third_attempt_with_the_same_id(
    api, account, receiver, person_id, no_wait, django_capture_on_commit_callbacks
):
    secret = endpoint_for(account, receiver.url("/flaky"))
    receiver.answers = [(500, {}), (500, {})]
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)

    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) in (1, 2, 3)  # the result URL is re-signed per attempt
    assert all(verify(secret=secret, headers=r.headers, body=r.body) for r in receiver.received)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert receiver.received[0].headers["webhook-id"] == delivery.id
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    attempts = list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "error", "succeeded")
    )
    assert attempts == [(1, 500, "http_status", False), (2, 500, "http_status", False), (3, 200, "", True)]


def test_retries_stop_when_the_schedule_is_used_up(
    api, account, receiver, person_id, no_wait, django_capture_on_commit_callbacks
):
    endpoint_for(account, receiver.url("/down"))
    receiver.answers = [(503, {})] * 10
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
    assert len(receiver.received) == 4
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [503] * 4


def test_a_redirect_is_a_failure_and_is_not_followed(
    api, account, receiver, person_id, settings, django_capture_on_commit_callbacks
):
    settings.TRYON_WEBHOOK_RETRY_SCHEDULE = []
    endpoint_for(account, receiver.url("/moved"))
    receiver.answers = [(302, {"Location": receiver.url("/elsewhere")})]
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    assert [r.path for r in receiver.received] == ["/moved"]
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("failed", 302, "redirect")
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.status_code, attempt.error, attempt.succeeded) == (302, "redirect", False)


def test_connection_refused_is_recorded_and_retried(
    api, account, receiver, person_id, settings, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.TRYON_FETCH_ALLOWED_PORTS = [*settings.TRYON_FETCH_ALLOWED_PORTS, port]
    settings.TRYON_WEBHOOK_RETRY_SCHEDULE = [3600]
    endpoint_for(account, f"http://127.0.0.1:{port}/gone")
    before = timezone.now()
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("pending", None, "connection")
    assert before + timedelta(seconds=3600) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=4500)


def test_redelivery_uses_the_current_endpoint_url_and_the_same_id(
    api, account, receiver, person_id, settings, django_capture_on_commit_callbacks
):
    settings.TRYON_WEBHOOK_RETRY_SCHEDULE = []
    endpoint_for(account, receiver.url("/old"))
    receiver.answers = [(500, {})]
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)

    WebhookEndpoint.objects.filter(account=account).update(url=receiver.url("/new"))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery_redeliver(account=account, delivery_id=delivery.id) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.cycle_start) == ("delivered", 2, 1)
    assert [r.path for r in receiver.received] == ["/old", "/new"]
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"] == delivery.id

    # Disabled endpoint: a redelivery has no target and fails at once, without a request.
    WebhookEndpoint.objects.filter(account=account).update(is_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(account=account, delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "no_target")
    assert len(receiver.received) == 2


def test_redeliver_is_scoped_to_the_account(api, account, receiver, person_id, django_capture_on_commit_callbacks):
    from tests.factories import AccountFactory

    endpoint_for(account, receiver.url("/hook"))
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery_redeliver(account=AccountFactory(), delivery_id=delivery.id) is False
    assert len(receiver.received) == 1


def test_logs_carry_no_url_or_secret(
    api, account, receiver, person_id, no_wait, caplog, django_capture_on_commit_callbacks
):
    secret = endpoint_for(account, receiver.url("/private-path"))
    receiver.answers = [(500, {})]
    with caplog.at_level(logging.DEBUG):
        generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    webhook_lines = [r.getMessage() for r in caplog.records if r.name == "tryon.webhooks"]
    assert len(webhook_lines) == 2 and all(delivery.id in line for line in webhook_lines)
    for needle in ("private-path", f":{receiver.port}", secret, secret[len("whsec_") :]):
        assert needle not in caplog.text


def test_a_client_without_webhooks_sees_nothing_different(
    api, account, receiver, person_id, django_capture_on_commit_callbacks
):
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    poll = api.get(f"/tryon/v1/generations/{generation_id}").json()
    assert set(poll) == {
        "generationId",
        "status",
        "productExternalId",
        "resultImageUrl",
        "resultImageExpiresAt",
        "createdAt",
        "updatedAt",
        "completedAt",
        "durationMs",
    }
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists() and not WebhookEndpoint.objects.exists()


def test_webhook_url_is_never_echoed(api, account, receiver, person_id, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api.post_json(
            "/tryon/v1/try-on",
            {
                "product": {"externalId": "s", "title": "Tee", "images": [{"url": receiver.url("/shirt.jpg")}]},
                "customer": {"id": person_id},
                "webhookUrl": receiver.url("/echo"),
            },
        )
    assert accepted.status_code == 202
    assert set(accepted.json()) == {"generationId", "status", "productExternalId"}
    generation_id = accepted.json()["generationId"]
    poll = api.get(f"/tryon/v1/generations/{generation_id}")
    assert "webhook" not in poll.content.decode().lower()
    assert Generation.objects.get(id=generation_id).webhook_url == receiver.url("/echo")
