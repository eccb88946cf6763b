from __future__ import annotations

import json

from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookEndpoint
from webhooks.selectors import webhook_signing_secrets
from webhooks.services import webhook_endpoint_create

TRYON = "/tryon/v1/try-on"


def tryon_body(receiver: Receiver, person_id: str, *, webhook_url: str | None = None, title: str = "Red tee") -> dict:
    body = {
        "product": {"externalId": "shirt-42", "title": title, "images": [{"url": receiver.url("/shirt.jpg")}]},
        "customer": {"id": person_id},
    }
    if webhook_url is not None:
        body["webhookUrl"] = webhook_url
    return body


def run_tryon(api, capture, receiver: Receiver, person_id: str, **kwargs) -> str:
    """Accept a try-on and run everything that follows it (worker, webhook deliveries) in-process."""
    with capture(execute=True):
        response = api.post_json(TRYON, tryon_body(receiver, person_id, **kwargs))
    assert response.status_code == 202, response.content
    return response.json()["generationId"]


def endpoint_for(account, url: str) -> str:
    """Create the account endpoint; returns the secret the dashboard would show once."""
    _, secret = webhook_endpoint_create(account=account, url=url)
    return secret


def current_secret(account) -> str:
    from django.utils import timezone

    return webhook_signing_secrets(endpoint=WebhookEndpoint.objects.get(account=account), now=timezone.now())[0]


def event(received) -> dict:
    return json.loads(received.body)
