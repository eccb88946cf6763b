"""The retry schedule, driven through the services with the clock and the task queue observed directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.helpers import endpoint_for, run_tryon
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import retry_delay, webhook_deliveries_sweep, webhook_delivery_attempt
from webhooks.services.attempts import RETRY_JITTER

DEFAULT_SCHEDULE = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 36000]


def test_default_schedule_retries_for_more_than_24_hours(settings):
    assert settings.TRYON_WEBHOOK_RETRY_SCHEDULE == DEFAULT_SCHEDULE
    assert sum(DEFAULT_SCHEDULE) >= 24 * 3600
    for n, base in enumerate(DEFAULT_SCHEDULE, start=1):
        delays = [retry_delay(attempt_in_cycle=n) for _ in range(50)]
        assert all(base <= delay <= base * (1 + RETRY_JITTER) for delay in delays)
        assert len(set(delays)) > 1  # jittered
    assert retry_delay(attempt_in_cycle=len(DEFAULT_SCHEDULE) + 1) is None


@pytest.fixture
def failing_delivery(
    api, account, receiver, person_id, fake_engine, eager, monkeypatch, django_capture_on_commit_callbacks
) -> tuple[WebhookDelivery, list]:
    """A delivery whose first attempt got a 500, with task sends recorded instead of run."""
    sent: list[tuple[str, float]] = []
    monkeypatch.setattr(
        "webhooks.services.attempts.webhook_delivery_send",
        lambda *, delivery_id, countdown=0: sent.append((delivery_id, countdown)),
    )
    monkeypatch.setattr(
        "webhooks.services.events.webhook_delivery_send",
        lambda *, delivery_id, countdown=0: sent.append((delivery_id, countdown)),
    )
    endpoint_for(account, receiver.url("/hook"))
    receiver.answers = [(500, {})] * 20
    generation_id = run_tryon(api, django_capture_on_commit_callbacks, receiver, person_id)
    delivery = WebhookDelivery.objects.get(generation_id=generation_id)
    assert sent == [(delivery.id, 0)]  # the first attempt, right after the event
    sent.clear()
    return delivery, sent


def _attempt_now(delivery: WebhookDelivery, capture) -> str:
    with capture(execute=True):
        return webhook_delivery_attempt(delivery_id=delivery.id).status


def test_backoff_is_scheduled_and_an_early_task_does_nothing(
    failing_delivery, receiver, django_capture_on_commit_callbacks
):
    delivery, sent = failing_delivery
    before = timezone.now()
    assert _attempt_now(delivery, django_capture_on_commit_callbacks) == "retrying"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == "pending"
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=5 * (1 + RETRY_JITTER))
    [(delivery_id, countdown)] = sent
    assert delivery_id == delivery.id and 5 <= countdown <= 5 * (1 + RETRY_JITTER)

    # A task that arrives before the delivery is due (a duplicate, a premature broker redelivery) sends nothing.
    assert _attempt_now(delivery, django_capture_on_commit_callbacks) == "skipped"
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_long_delays_are_left_to_the_sweep(failing_delivery, receiver, django_capture_on_commit_callbacks):
    delivery, sent = failing_delivery
    for _ in range(4):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert _attempt_now(delivery, django_capture_on_commit_callbacks) == "retrying"
    # Delays of 5 s, 30 s and 2 min went to the broker as countdowns; the 10 min one did not.
    assert len(sent) == 3
    for (_, countdown), base in zip(sent, (5, 30, 120), strict=True):
        assert base <= countdown <= base * (1 + RETRY_JITTER)
    delivery.refresh_from_db()
    assert delivery.attempts == 4
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=590)

    sent.clear()
    assert webhook_deliveries_sweep() == {"sent": 0, "purged": 0}  # not due yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert webhook_deliveries_sweep() == {"sent": 1, "purged": 0}
    assert sent == [(delivery.id, 0)]


def test_sweep_purges_old_finished_deliveries_only(failing_delivery, settings):
    delivery, _ = failing_delivery
    old = timezone.now() - timedelta(days=settings.TRYON_WEBHOOK_LOG_DAYS + 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=old, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert webhook_deliveries_sweep()["purged"] == 0  # still pending: kept
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    assert webhook_deliveries_sweep()["purged"] == 1
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
