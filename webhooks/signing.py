"""Webhook secrets and Standard Webhooks signatures (https://www.standardwebhooks.com/).

Secrets look like `whsec_<base64 of 32 random bytes>`; the decoded bytes are the HMAC key, as the Standard
Webhooks libraries expect, so receivers may verify with those libraries or with the few lines in
docs/webhooks.md. At rest a secret is encrypted with Fernet under a key derived from SECRET_KEY by HKDF: signing
needs the plain secret back, so hashing (as for API keys) is not an option. SECRET_KEY_FALLBACKS still decrypt,
so rotating SECRET_KEY the Django way does not orphan stored secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
_SECRET_BYTES = 32
_HKDF_INFO = b"tryon-server webhook secrets v1"


class SecretUnreadableError(Exception):
    """A stored secret does not decrypt under SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def _fernet_for(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([_fernet_for(key) for key in keys])


def secret_encrypt(*, secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def secret_decrypt(*, token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadableError from None


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers. Several secrets (during a rotation) give space-separated signatures;
    a receiver accepts the message when any one of them verifies."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_
        ),
    }
