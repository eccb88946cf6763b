from __future__ import annotations

from django.utils import timezone

from accounts.models import Account
from customers.models import CustomerImage
from tryon_project.api.errors import ApiError, ErrorCode


def customer_image_get(*, account: Account, image_id: str) -> CustomerImage:
    """An unexpired image of this account; IMAGE_NOT_FOUND otherwise (unknown, expired and other accounts' ids
    are indistinguishable)."""
    image = CustomerImage.objects.filter(account=account, id=image_id, expires_at__gt=timezone.now()).first()
    if image is None:
        raise ApiError(ErrorCode.IMAGE_NOT_FOUND, "Customer image not found or expired.")
    return image
