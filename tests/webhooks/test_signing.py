"""Secrets at rest and the signature format, checked against the documented algorithm."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import override_settings

from accounts.models import Account
from tests.webhooks.receiver import verify
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_secret_rotate
from webhooks.signing import (
    SecretUnreadableError,
    secret_decrypt,
    secret_encrypt,
    secret_generate,
    signature,
    signed_headers,
)


def test_secret_format_is_standard_webhooks():
    secret = secret_generate()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret)
    assert len(base64.b64decode(secret[len("whsec_") :])) == 32
    assert secret != secret_generate()


def test_signature_matches_a_known_vector():
    # The example of the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        signature(secret=secret, message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_headers_verify_with_any_of_several_secrets():
    old, new = secret_generate(), secret_generate()
    body = b'{"type":"generation.completed"}'
    headers = signed_headers(secrets_=[new, old], message_id="msg_x", timestamp=1_700_000_000, body=body)
    assert headers["webhook-id"] == "msg_x" and headers["webhook-timestamp"] == "1700000000"
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(secret=new, headers=headers, body=body, tolerance_s=10**10)
    assert verify(secret=old, headers=headers, body=body, tolerance_s=10**10)
    assert not verify(secret=secret_generate(), headers=headers, body=body, tolerance_s=10**10)


def test_secret_is_encrypted_under_secret_key_and_its_fallbacks():
    secret = secret_generate()
    token = secret_encrypt(secret=secret)
    assert secret not in token and secret[len("whsec_") :] not in token
    assert secret_decrypt(token=token) == secret
    with override_settings(SECRET_KEY="another-key", SECRET_KEY_FALLBACKS=[]), pytest.raises(SecretUnreadableError):
        secret_decrypt(token=token)


def test_fallback_key_still_decrypts(settings):
    token = secret_encrypt(secret="whsec_AAAA")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-key"
    assert secret_decrypt(token=token) == "whsec_AAAA"


def test_rotation_keeps_the_previous_secret_for_the_grace_period(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webhooks.selectors import webhook_signing_secrets

    account = Account.objects.create(name="rotating")
    endpoint, first = webhook_endpoint_create(account=account)
    second = webhook_secret_rotate(endpoint=endpoint)
    assert second != first
    endpoint = WebhookEndpoint.objects.get(account=account)
    assert webhook_signing_secrets(endpoint=endpoint, now=timezone.now()) == [second, first]
    later = timezone.now() + timedelta(hours=settings.TRYON_WEBHOOK_SECRET_GRACE_HOURS, seconds=1)
    assert webhook_signing_secrets(endpoint=endpoint, now=later) == [second]
    # The database never holds a secret in clear.
    stored = str(list(WebhookEndpoint.objects.filter(pk=endpoint.pk).values()))
    assert first not in stored and second not in stored
