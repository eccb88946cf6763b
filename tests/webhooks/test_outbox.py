"""The "generation became terminal" event is an outbox row written in the transaction of the status change: a
process that dies between the commit and the send loses nothing (the sweep delivers it), and a status change
that rolls back leaves no event."""

from __future__ import annotations

import pytest
from django.db import transaction

from generations.models import Generation
from generations.services.lifecycle import generation_claim, generation_complete, generation_fail
from tests.factories import AccountFactory
from tests.webhooks.helpers import endpoint_for, event
from tryon_project.api.errors import GenerationErrorCode
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_deliveries_sweep

pytestmark = pytest.mark.usefixtures("eager")


@pytest.fixture
def shop(db):
    return AccountFactory(credits=10)


def _pending(account) -> Generation:
    return Generation.objects.create(account=account, product_external_id="shirt-42", status="PENDING")


def test_an_event_left_behind_by_a_crash_after_commit_is_delivered_by_the_sweep(
    shop, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(shop, receiver.url("/hook"))
    generation = _pending(shop)
    claim = generation_claim(generation_id=generation.id)
    # The status change commits; the process dies before any after-commit callback runs (they are dropped).
    with django_capture_on_commit_callbacks(execute=False) as dropped:
        assert generation_complete(claim=claim, result_key="result/2026/12/02/r.jpg") is True
    assert len(dropped) == 1  # the delivery task's send: the only thing left to after the commit

    [delivery] = WebhookDelivery.objects.filter(generation_id=generation.id)
    assert (delivery.status, delivery.target, delivery.event_type, delivery.attempts) == (
        "pending",
        "endpoint",
        "generation.completed",
        0,
    )
    assert receiver.received == []

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == {"sent": 1, "purged": 0}
    [received] = receiver.received
    assert received.headers["webhook-id"] == delivery.id
    assert event(received)["data"]["generationId"] == generation.id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == {"sent": 0, "purged": 0}
    assert len(receiver.received) == 1


def test_a_failure_writes_its_event_with_the_refund(shop, receiver, django_capture_on_commit_callbacks):
    generation = Generation.objects.create(
        account=shop, product_external_id="shirt-42", status="PENDING", webhook_url=receiver.url("/once")
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert generation_fail(generation_id=generation.id, code=GenerationErrorCode.ENGINE_ERROR, message="boom")
    [delivery] = WebhookDelivery.objects.filter(generation_id=generation.id)
    assert (delivery.status, delivery.target, delivery.event_type) == ("pending", "call", "generation.failed")


def test_a_status_change_that_rolls_back_leaves_no_event(shop, receiver, django_capture_on_commit_callbacks):
    endpoint_for(shop, receiver.url("/hook"))
    generation = _pending(shop)
    claim = generation_claim(generation_id=generation.id)

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        assert generation_complete(claim=claim, result_key="result/2026/12/02/r.jpg") is True
        raise Abort
    assert callbacks == []
    assert Generation.objects.get(id=generation.id).status == "PROCESSING"
    assert not WebhookDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == {"sent": 0, "purged": 0}
    assert receiver.received == []
