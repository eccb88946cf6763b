from __future__ import annotations

import factory

from accounts.models import Account
from accounts.services import api_key_create, credits_topup


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"merchant-{n}")
    rate_limit_per_minute = 100
    customer_retention_days = 7

    @factory.post_generation
    def credits(obj: Account, create: bool, extracted: int | None, **kwargs) -> None:
        if create and extracted:
            credits_topup(account=obj, amount=extracted, reason="test credits")
            obj.refresh_from_db(fields=["credit_balance"])


def api_key_for(account: Account, *, name: str = "test") -> str:
    _, plain = api_key_create(account=account, name=name)
    return plain
