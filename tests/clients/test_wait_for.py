"""`wait_for` against the live server: it polls until a terminal status with a growing, jittered interval, waits
out a 429 exactly as `Retry-After` says, and gives up with a typed timeout error. Time is the fixture's fake clock,
which moves only when the client sleeps."""

from __future__ import annotations

import pytest
from tryon_client import TryOnError, WaitTimeoutError

from accounts.throttling import limiter
from engines.base import EngineError, EngineErrorCode
from generations.models import Generation
from generations.tasks import generation_run
from tests.clients.conftest import GARMENT, PERSON

pytestmark = pytest.mark.django_db(transaction=True)


def start(merchant) -> str:
    """A try-on left PENDING: without an eager worker the task waits in the (in-memory) broker."""
    accepted = merchant.client.try_on(
        product={"externalId": "tee-w", "title": "Tee"}, garment_photos=[GARMENT], person_photo=PERSON
    )
    return accepted["generationId"]


def test_polls_through_pending_until_completed(client_for, fake_engine):
    merchant = client_for()
    generation_id = start(merchant)

    def worker_runs_during_the_second_wait(seconds: float) -> None:
        if len(merchant.time.sleeps) == 2:
            generation_run.apply(args=(generation_id,))

    merchant.time.on_sleep = worker_runs_during_the_second_wait

    generation = merchant.client.wait_for(generation_id, timeout=60, poll_interval=1, max_poll_interval=4)

    assert generation["status"] == "COMPLETED" and "resultImageUrl" in generation
    polls = [a for a in merchant.answers if a[1] == f"/tryon/v1/generations/{generation_id}"]
    assert len(polls) == 3 and len(merchant.time.sleeps) == 2
    assert 0.5 <= merchant.time.sleeps[0] <= 1 and 1 <= merchant.time.sleeps[1] <= 2
    assert len(fake_engine.calls) == 1


def test_a_failed_generation_is_returned_with_its_error_code(client_for, fake_engine, eager_celery):
    fake_engine.errors.append(EngineError(EngineErrorCode.UNSUPPORTED_PRODUCT, "shoes", retryable=False))
    merchant = client_for(credits=1)

    generation = merchant.client.wait_for(start(merchant), timeout=30)

    assert generation["status"] == "FAILED"
    assert generation["errorCode"] == "UNSUPPORTED_PRODUCT" and "resultImageUrl" not in generation
    merchant.account.refresh_from_db()
    assert merchant.account.credit_balance == 1  # refunded


def test_times_out_with_backoff_and_the_last_generation_seen(client_for):
    merchant = client_for()
    generation_id = start(merchant)

    with pytest.raises(WaitTimeoutError) as raised:
        merchant.client.wait_for(generation_id, timeout=20, poll_interval=1, max_poll_interval=4)

    error = raised.value
    assert isinstance(error, TimeoutError) and isinstance(error, TryOnError)
    assert (error.code, error.status, error.generation_id, error.timeout) == ("WAIT_TIMEOUT", None, generation_id, 20)
    assert error.generation is not None and error.generation["status"] == "PENDING"
    sleeps = merchant.time.sleeps
    nominal = [1, 2, 4] + [4] * (len(sleeps) - 3)
    # Every wait but the last is within its jitter band; the last is cut to end exactly at the deadline.
    assert all(n / 2 <= s <= n for s, n in zip(sleeps[:-1], nominal, strict=False))
    assert sleeps[-1] <= nominal[len(sleeps) - 1]
    assert sum(sleeps) == pytest.approx(20)
    polls = [a for a in merchant.answers if a[1].startswith("/tryon/v1/generations/")]
    assert len(polls) == len(sleeps) + 1  # one last poll on the deadline
    assert Generation.objects.get(pk=generation_id).status == "PENDING"


def test_a_429_while_polling_is_waited_out_as_retry_after_says(client_for, fake_engine, eager_celery):
    merchant = client_for(rate_limit=2)
    merchant.time.on_sleep = lambda seconds: limiter().storage.reset()  # the real wait lets the window lapse
    generation_id = start(merchant)
    merchant.client.get_credits()  # the window is full now

    generation = merchant.client.wait_for(generation_id, timeout=120)

    assert generation["status"] == "COMPLETED"
    statuses = [status for _, path, status, _ in merchant.answers if path.startswith("/tryon/v1/generations/")]
    assert statuses == [429, 200]
    retry_after = float(merchant.answers[-2][3]["retry-after"])
    assert merchant.time.sleeps == [retry_after] and retry_after >= 1


def test_a_retry_after_past_the_deadline_raises_at_once(client_for):
    merchant = client_for(rate_limit=1)
    generation_id = start(merchant)  # the window is full now, for about a minute

    with pytest.raises(WaitTimeoutError) as raised:
        merchant.client.wait_for(generation_id, timeout=0.5)

    assert merchant.time.sleeps == []
    assert raised.value.generation is None  # no poll got an answer
    assert merchant.answers[-1][2] == 429


def test_an_unknown_generation_is_raised_not_polled(client_for):
    merchant = client_for()
    with pytest.raises(TryOnError) as raised:
        merchant.client.wait_for("gen_unknown", timeout=30)
    assert raised.value.code == "GENERATION_NOT_FOUND" and merchant.time.sleeps == []
