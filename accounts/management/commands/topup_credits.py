from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.services import CreditError, credits_topup


class Command(BaseCommand):
    help = "Add (or, with a negative amount, remove) credits; prints the new balance."

    def add_arguments(self, parser):
        parser.add_argument("account_name")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", default="top-up from the command line")

    def handle(self, *args, account_name: str, amount: int, reason: str, **options):
        account = Account.objects.filter(name=account_name).first()
        if account is None:
            raise CommandError(f"No account named {account_name!r}.")
        try:
            entry = credits_topup(account=account, amount=amount, reason=reason)
        except CreditError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(entry.balance_after))
