"""One delivery attempt: claim, sign, POST through the safe fetcher, record, and schedule the next try.

A claim is a conditional UPDATE (the row must be PENDING and due), so however many tasks arrive for one delivery
(a countdown task, the sweep, a broker redelivery) only one of them sends at a time."""

from __future__ import annotations

import enum
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generations.models import Generation
from tryon_project.http_fetch import FetchError, url_fetch
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.selectors import webhook_delivery_target_url, webhook_event_body, webhook_signing_secrets
from webhooks.services.endpoints import webhook_signing_endpoint_ensure
from webhooks.services.events import webhook_delivery_send
from webhooks.signing import SecretUnreadableError, signed_headers

logger = logging.getLogger("tryon.webhooks")

# Retry delays are stretched by up to this fraction at random, so receivers that fail together (an outage) are
# not hit by every retry at once. Only ever longer: the schedule stays a lower bound.
RETRY_JITTER = 0.25
# Longer delays are left to the periodic sweep: a far-future countdown sits in a worker's memory, and on Redis
# the broker hands it out again after the visibility timeout.
_COUNTDOWN_MAX_SECONDS = 300
# Refusals that no retry can change: the URL itself breaks a rule, or there is nothing to send or sign with.
_PERMANENT = frozenset({"bad_scheme", "bad_port", "credentials_in_url", "invalid_url", "no_target", "no_secret"})


class AttemptStatus(enum.StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    # Not claimed: not due, already delivered or failed, or another attempt holds it.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class AttemptOutcome:
    status: AttemptStatus
    status_code: int | None = None
    error: str = ""


@dataclass(frozen=True)
class _Response:
    status_code: int | None
    latency_ms: int
    error: str

    @property
    def succeeded(self) -> bool:
        return not self.error


def retry_delay(*, attempt_in_cycle: int) -> float | None:
    """Seconds to wait after the n-th failed attempt of a cycle, or None when the schedule is used up."""
    schedule = settings.TRYON_WEBHOOK_RETRY_SCHEDULE
    if attempt_in_cycle > len(schedule):
        return None
    return schedule[attempt_in_cycle - 1] * (1 + random.random() * RETRY_JITTER)


def webhook_delivery_attempt(*, delivery_id: str) -> AttemptOutcome:
    now = timezone.now()
    # Long enough for one fetch to run to its total deadline; after it, a worker that died mid-attempt is assumed
    # gone and the sweep sends the delivery again.
    lease = timedelta(seconds=settings.TRYON_FETCH_TOTAL_TIMEOUT + 30)
    claimed = WebhookDelivery.objects.filter(
        id=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease, updated_at=now)
    if not claimed:
        return AttemptOutcome(status=AttemptStatus.SKIPPED)
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    generation = Generation.objects.get(id=delivery.generation_id, account_id=delivery.account_id)
    response = _post(delivery=delivery, generation=generation)
    outcome = _record(delivery=delivery, started_at=now, response=response)
    # The delivery id is the only identifier logged: never the URL, the body or the signature.
    logger.info(
        "webhook attempt %s #%d: %s (status %s, %s)",
        delivery.id,
        delivery.attempts,
        outcome.status,
        response.status_code,
        response.error or "ok",
    )
    return outcome


def _post(*, delivery: WebhookDelivery, generation: Generation) -> _Response:
    url = webhook_delivery_target_url(delivery=delivery, generation=generation)
    if not url:
        return _Response(status_code=None, latency_ms=0, error="no_target")
    endpoint = webhook_signing_endpoint_ensure(account_id=delivery.account_id)
    try:
        secrets_ = webhook_signing_secrets(endpoint=endpoint, now=timezone.now())
    except SecretUnreadableError:
        logger.error("webhook secret of delivery %s does not decrypt (SECRET_KEY changed?)", delivery.id)
        return _Response(status_code=None, latency_ms=0, error="no_secret")
    body = webhook_event_body(delivery=delivery, generation=generation)
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secrets_=secrets_, message_id=delivery.id, timestamp=int(time.time()), body=body),
    }
    started = time.monotonic()
    try:
        result = url_fetch(
            url=url, method="POST", body=body, headers=headers, follow_redirects=False, accept_non_2xx=True
        )
    except FetchError as exc:
        return _Response(status_code=exc.status, latency_ms=int((time.monotonic() - started) * 1000), error=exc.reason)
    if 200 <= result.status < 300:
        error = ""
    elif 300 <= result.status < 400:
        # Never followed: a receiver that moved must be updated in the dashboard, not trusted to point elsewhere.
        error = "redirect"
    else:
        error = "http_status"
    return _Response(status_code=result.status, latency_ms=int(result.elapsed_ms), error=error)


def _record(*, delivery: WebhookDelivery, started_at: datetime, response: _Response) -> AttemptOutcome:
    now = timezone.now()
    number = delivery.attempts
    # Guarded by the claim it made: if a redelivery restarted the cycle meanwhile, that newer state wins.
    this_claim = WebhookDelivery.objects.filter(
        id=delivery.id, account_id=delivery.account_id, attempts=number, cycle_start=delivery.cycle_start
    )
    fields = {"last_status_code": response.status_code, "last_error": response.error, "updated_at": now}
    delay = None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            account_id=delivery.account_id,
            number=number,
            started_at=started_at,
            status_code=response.status_code,
            latency_ms=response.latency_ms,
            error=response.error,
            succeeded=response.succeeded,
        )
        if response.succeeded:
            this_claim.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, **fields)
            return AttemptOutcome(status=AttemptStatus.DELIVERED, status_code=response.status_code)
        if response.error not in _PERMANENT:
            delay = retry_delay(attempt_in_cycle=number - delivery.cycle_start)
        if delay is None:
            this_claim.update(status=DeliveryStatus.FAILED, next_attempt_at=None, **fields)
            return AttemptOutcome(status=AttemptStatus.FAILED, status_code=response.status_code, error=response.error)
        if this_claim.update(next_attempt_at=now + timedelta(seconds=delay), **fields) and (
            delay <= _COUNTDOWN_MAX_SECONDS
        ):
            transaction.on_commit(lambda: webhook_delivery_send(delivery_id=delivery.id, countdown=delay))
    return AttemptOutcome(status=AttemptStatus.RETRYING, status_code=response.status_code, error=response.error)
