from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from accounts.services import account_create, api_key_create
from accounts.time_zones import DEFAULT_TIME_ZONE


class Command(BaseCommand):
    help = "Create a merchant account and print its first API key (only the key, on stdout)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--credits", type=int, default=0)
        parser.add_argument("--rate-limit", type=int, default=None, help="Requests per minute (default: setting).")
        parser.add_argument(
            "--time-zone", default=DEFAULT_TIME_ZONE, help="IANA name the dashboard shows times in (default UTC)."
        )

    def handle(self, *args, name: str, credits: int, rate_limit: int | None, time_zone: str, **options):
        if credits < 0:
            raise CommandError("--credits must be >= 0")
        if rate_limit is not None and rate_limit < 1:
            raise CommandError("--rate-limit must be >= 1")
        try:
            account = account_create(name=name, credits=credits, rate_limit_per_minute=rate_limit, time_zone=time_zone)
        except IntegrityError as exc:
            raise CommandError(f"An account named {name!r} already exists.") from exc
        except ValidationError as exc:
            raise CommandError(f"--time-zone: {exc.messages[0]}") from exc
        _, plain = api_key_create(account=account, name="default")
        self.stdout.write(plain)
