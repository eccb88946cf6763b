"""GDPR erasure of one end user (docs/api.md "DELETE /customers/{customerId}")."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from customers.models import CustomerImage
from customers.services import blob_deletions_schedule, customer_images_erase
from generations.models import Generation
from generations.services.lifecycle import IN_FLIGHT, generation_fail
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.enqueue import task_enqueue


def customer_erase(*, account: Account, customer_id: str) -> list[str]:
    """The database part, done before the caller answers 204: in-flight generations of the user end FAILED with
    CUSTOMER_DATA_DELETED (credit refunded; the attempt fence keeps any worker from writing a result), the rows
    lose the customer id and every file reference, upload-tracking rows are deleted, and every object is scheduled
    for deletion. Returns the scheduled keys; the storage part is sent, after commit, as a retried background job
    (if the broker is down, the periodic deletion run does it)."""
    with transaction.atomic():
        user_images = CustomerImage.objects.filter(account=account, customer_id=customer_id)
        generations = Generation.objects.filter(account=account).filter(
            Q(customer_id=customer_id) | Q(customer_image__in=user_images)
        )
        generation_ids = list(generations.values_list("id", flat=True))
        rows = Generation.objects.filter(id__in=generation_ids)
        for generation_id in rows.filter(status__in=IN_FLIGHT).values_list("id", flat=True):
            generation_fail(
                generation_id=generation_id,
                code=GenerationErrorCode.CUSTOMER_DATA_DELETED.name,
                message="The end user's data was erased.",
            )
        keys = [key for pair in rows.values_list("person_image_key", "result_key") for key in pair if key]
        # Photos used with this customer id (even if uploaded without it) go too, with their tracking rows.
        used = CustomerImage.objects.filter(
            account=account, id__in=rows.exclude(customer_image=None).values_list("customer_image_id", flat=True)
        )
        keys += list(used.values_list("storage_key", flat=True))
        used.delete()
        keys += customer_images_erase(account=account, customer_id=customer_id)
        blob_deletions_schedule(keys=keys)
        now = timezone.now()
        rows.exclude(result_key="").update(result_deleted=True)
        rows.update(customer_id="", person_image_key="", result_key="", customer_image=None, updated_at=now)
        scheduled = sorted(set(keys))
        if scheduled:
            transaction.on_commit(
                lambda: task_enqueue(name="customers.delete_blobs", args=(scheduled,), recovery="the periodic purge")
            )
    return scheduled
