from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an existing account and print only the key on stdout."

    def add_arguments(self, parser):
        parser.add_argument("account_name")
        parser.add_argument("--name", default="default", help="A label for the key.")

    def handle(self, *args, account_name: str, name: str, **options):
        account = Account.objects.filter(name=account_name).first()
        if account is None:
            raise CommandError(f"No account named {account_name!r}.")
        _, plain = api_key_create(account=account, name=name)
        self.stdout.write(plain)
