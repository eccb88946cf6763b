"""API key format and hashing. Keys are 256 random bits, so a single SHA-256 is the right lookup hash
(a slow password hash would only add latency: there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "tok_"
VISIBLE_PREFIX_LENGTH = 12


def key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def key_visible_prefix(plain: str) -> str:
    return plain[:VISIBLE_PREFIX_LENGTH]
