"""The demo account, whose passwords are public, exists in embedded mode only."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import Account, ApiKey

ROOT = Path(__file__).resolve().parents[2]


def test_bootstrap_demo_is_refused_outside_embedded_mode(db, settings, tmp_path):
    settings.EMBEDDED = False
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="embedded mode only"):
        call_command("bootstrap_demo", stdout=StringIO())
    assert not Account.objects.filter(name="demo").exists()
    assert not get_user_model().objects.filter(username__in=["demo", "admin"]).exists()
    assert not ApiKey.objects.exists()
    assert not (tmp_path / "demo-api-key").exists()


def test_bootstrap_demo_with_postgresql_settings_exits_non_zero_and_writes_nothing(tmp_path):
    # The production settings module (DATABASE_URL set): refused before any database work, so even a
    # database that cannot be reached gets no demo account.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tryon_project.settings",
        "DATABASE_URL": "postgres://tryon@127.0.0.1:1/tryon",
        "SECRET_KEY": "a-production-secret",
        "TRYON_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "bootstrap_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "embedded mode only" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "demo-api-key").exists()


def test_the_production_banner_names_no_demo_login():
    spec = importlib.util.spec_from_file_location("tryon_run_script_banner", ROOT / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    text = run.banner(base="https://api.example.com", embedded=False, api_key="")
    assert "demo-password" not in text and "admin-password" not in text
    assert "demo API key" not in text and "tok_" not in text
    assert "create_account" in text
    assert "demo-password" in run.banner(base="http://127.0.0.1:8000", embedded=True, api_key="tok_x")
