"""The production settings profile of docs/deployment.md passes Django's deployment checks, warnings included."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The documented production variables (docs/deployment.md, .env.example), with placeholder services: the
# deployment checks read settings only and connect to nothing.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "tryon_project.settings",
    "DATABASE_URL": "postgres://tryon:secret@db.internal:5432/tryon",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "api.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://api.example.com",
    "PUBLIC_BASE_URL": "https://api.example.com",
    "DJANGO_DEBUG": "false",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "X_FRAME_OPTIONS": "DENY",
    "AWS_STORAGE_BUCKET_NAME": "tryon-media",
    "AWS_S3_REGION_NAME": "eu-west-1",
}


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **env},
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_production_profile_passes_check_deploy(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(64), "TRYON_VAR_DIR": str(tmp_path / "var")}
    result = _check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_check_does_fail_without_the_https_settings(tmp_path):
    env = {
        **PRODUCTION_ENV,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "TRYON_VAR_DIR": str(tmp_path / "var"),
        "SECURE_SSL_REDIRECT": "false",
    }
    result = _check(env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr
