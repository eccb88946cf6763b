"""GDPR erasure of one end user (docs/api.md "DELETE /customers/{customerId}").

The customers app owns it: the end user's photos are its data. Apps above it that keep data derived from those
photos (generations: results, the person copies they hold) take part through a participant they register in their
AppConfig.ready(), so this module never imports them. Everything happens in one transaction, before the caller
answers 204; the objects are deleted from storage by the retried deletion job sent after commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from accounts.models import Account
from customers.models import CustomerImage
from tryon_project.storage import blob_deletions_schedule


@dataclass(frozen=True)
class ErasedData:
    """What a participant forgot: storage objects no longer referenced, and the ids of photos it found used with
    the customer id (they are deleted with the user's own photos, even if uploaded without the id)."""

    keys: list[str] = field(default_factory=list)
    image_ids: set[str] = field(default_factory=set)


# Called inside the erasure transaction with the account, the customer id and the ids of the user's own photos.
ErasureParticipant = Callable[..., ErasedData]

_participants: list[ErasureParticipant] = []


def customer_erasure_participant_register(participant: ErasureParticipant) -> None:
    """Take part in every erasure (idempotent: registering the same function twice registers it once)."""
    if participant not in _participants:
        _participants.append(participant)


def customer_erase(*, account: Account, customer_id: str) -> list[str]:
    """Erase one end user's data of `account`: each participant forgets what it holds, then the user's photos and
    the photos used with the id are deleted, and every object is scheduled for deletion (sent after commit).
    Returns the scheduled storage keys; an unknown id erases nothing and is not an error."""
    with transaction.atomic():
        own_ids = list(
            CustomerImage.objects.filter(account=account, customer_id=customer_id).values_list("id", flat=True)
        )
        keys: list[str] = []
        used_ids: set[str] = set()
        for participant in _participants:
            erased = participant(account=account, customer_id=customer_id, image_ids=own_ids)
            keys += erased.keys
            used_ids |= erased.image_ids
        images = CustomerImage.objects.filter(account=account).filter(Q(id__in=own_ids) | Q(id__in=used_ids))
        keys += list(images.values_list("storage_key", flat=True))
        images.delete()
        return blob_deletions_schedule(keys=keys)
