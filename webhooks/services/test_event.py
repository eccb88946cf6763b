"""A signed `test` event, sent now to the account's endpoint from the dashboard ("Send test event").

It is signed and sent exactly like a real event (same headers, same secrets, same outbound rules through the
safe fetcher, redirects not followed) but it describes no generation, so it is not a delivery: nothing is
queued or retried, and the attempt is returned to the page that asked for it. Only the outcome is logged,
never the URL, the body or the signature."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from django.utils import timezone

from tryon_project.api.datetimes import iso_ms
from tryon_project.http_fetch import FetchError, url_fetch
from tryon_project.ids import public_id
from webhooks.models import WebhookEndpoint
from webhooks.selectors import webhook_signing_secrets
from webhooks.signing import SecretUnreadableError, signed_headers

logger = logging.getLogger("tryon.webhooks")

TEST_EVENT_TYPE = "test"


@dataclass(frozen=True)
class TestEventAttempt:
    message_id: str
    status_code: int | None
    latency_ms: int
    error: str  # "" on a 2xx answer; else the fetcher's reason, "http_<status>", "no_url" or "no_secret"
    body: bytes

    @property
    def succeeded(self) -> bool:
        return not self.error


def webhook_test_event_send(*, endpoint: WebhookEndpoint) -> TestEventAttempt:
    message_id = public_id("msg_")
    now = timezone.now()
    body = json.dumps(
        {
            "type": TEST_EVENT_TYPE,
            "createdAt": iso_ms(now),
            "data": {"message": "A test event sent from the dashboard.", "account": endpoint.account.name},
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    if not endpoint.url:
        return TestEventAttempt(message_id=message_id, status_code=None, latency_ms=0, error="no_url", body=body)
    try:
        secrets_ = webhook_signing_secrets(endpoint=endpoint, now=now)
    except SecretUnreadableError:
        logger.error("webhook secret of endpoint %s does not decrypt (SECRET_KEY changed?)", endpoint.pk)
        return TestEventAttempt(message_id=message_id, status_code=None, latency_ms=0, error="no_secret", body=body)
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secrets_=secrets_, message_id=message_id, timestamp=int(time.time()), body=body),
    }
    started = time.monotonic()
    error: str
    try:
        result = url_fetch(
            url=endpoint.url, method="POST", body=body, headers=headers, follow_redirects=False, accept_non_2xx=True
        )
    except FetchError as exc:
        status, error = exc.status, exc.reason
    else:
        status, error = result.status, "" if 200 <= result.status < 300 else f"http_{result.status}"
    latency = int((time.monotonic() - started) * 1000)
    logger.info("webhook test event %s: status %s, %s", message_id, status, error or "ok")
    return TestEventAttempt(message_id=message_id, status_code=status, latency_ms=latency, error=error, body=body)
