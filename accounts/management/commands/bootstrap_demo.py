"""Idempotent first-run setup for `make run`: a demo merchant with credits, a dashboard login and an API key.

The plain key cannot be recovered from its hash, so it is kept in var/demo-api-key (mode 0600) to be printed
again on the next start; if that key was revoked, a new one is issued."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Account
from accounts.selectors import api_key_resolve
from accounts.services import account_create, api_key_create, dashboard_user_create

DEMO_ACCOUNT = "demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # documented in the README; embedded mode only
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-password"  # documented in the README; embedded mode only


class Command(BaseCommand):
    help = "Create the demo account, dashboard users and API key if missing; print the key."

    def handle(self, *args, **options):
        if not settings.EMBEDDED:
            # Its passwords are printed in the README: on a server reachable by others they would be a way in.
            raise CommandError(
                "The demo account is created in embedded mode only (no DATABASE_URL). With production settings, "
                "create accounts with `create_account` and operators with `createsuperuser`."
            )
        key_file = Path(settings.VAR_DIR) / "demo-api-key"
        with transaction.atomic():
            account = Account.objects.filter(name=DEMO_ACCOUNT).first()
            if account is None:
                account = account_create(name=DEMO_ACCOUNT, credits=settings.TRYON_DEMO_CREDITS)
            user_model = get_user_model()
            if not user_model.objects.filter(username=DEMO_USER).exists():
                dashboard_user_create(account=account, username=DEMO_USER, password=DEMO_PASSWORD)
            if not user_model.objects.filter(username=ADMIN_USER).exists():
                user_model.objects.create_superuser(username=ADMIN_USER, password=ADMIN_PASSWORD, email="")
            plain = key_file.read_text().strip() if key_file.exists() else ""
            if not plain or api_key_resolve(plain=plain) is None:
                _, plain = api_key_create(account=account, name="demo")
                key_file.parent.mkdir(parents=True, exist_ok=True)
                key_file.write_text(plain)
                key_file.chmod(0o600)
        self.stdout.write(plain)
