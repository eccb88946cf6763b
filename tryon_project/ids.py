"""Opaque public ids: a type prefix and 128 random bits (docs/api.md "Conventions": random, unguessable, >= 96 bits)."""

import secrets


def public_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(16)}"
