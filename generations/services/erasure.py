"""The generations' part of an end user's erasure (docs/api.md "DELETE /customers/{customerId}"), a participant of
`customers.erasure.customer_erase` registered in GenerationsConfig.ready()."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from customers.erasure import ErasedData
from generations.models import Generation
from generations.services.lifecycle import IN_FLIGHT, generation_fail
from tryon_project.api.errors import GenerationErrorCode


def generations_erase_customer(*, account: Account, customer_id: str, image_ids: list[str]) -> ErasedData:
    """Runs inside the erasure transaction. In-flight generations of the user end FAILED with CUSTOMER_DATA_DELETED
    (credit refunded; the attempt fence keeps any worker from writing a result), and the rows lose the customer id,
    the per-call webhook URL (merchants often put the customer id in it; the delivery log reads its target from
    here) and every file reference (they stay for statistics, with `resultDeleted`). Returns the objects they
    referenced and the photos they used."""
    rows = Generation.objects.filter(
        id__in=list(
            Generation.objects.filter(account=account)
            .filter(Q(customer_id=customer_id) | Q(customer_image_id__in=image_ids))
            .values_list("id", flat=True)
        )
    )
    in_flight = list(rows.filter(status__in=IN_FLIGHT).values_list("id", flat=True))
    keys = [key for pair in rows.values_list("person_image_key", "result_key") for key in pair if key]
    used = set(rows.exclude(customer_image=None).values_list("customer_image_id", flat=True))
    now = timezone.now()
    rows.exclude(result_key="").update(result_deleted=True)
    rows.update(customer_id="", webhook_url="", person_image_key="", result_key="", customer_image=None, updated_at=now)
    # Failed after the URL is gone: the generation.failed event goes to the account endpoint only, never to a
    # per-call URL that held the user's id.
    for generation_id in in_flight:
        generation_fail(
            generation_id=generation_id,
            code=GenerationErrorCode.CUSTOMER_DATA_DELETED,
            message="The end user's data was erased.",
        )
    return ErasedData(keys=keys, image_ids=used)
