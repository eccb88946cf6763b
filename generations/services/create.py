"""Accepting a try-on: resolve the customer image and the product, reserve a credit and create the generation in
one transaction, enqueue after commit."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.fetch_slots import fetch_slot_hold
from accounts.models import Account
from accounts.services import credits_reserve
from customers.models import CustomerImage, ImageSource
from customers.selectors import customer_image_get
from customers.services import customer_image_create, customer_image_discard
from generations.engine_config import engine_registry
from generations.inputs import CustomerImageKind, TryOnInput
from generations.models import Generation, GenerationStatus
from generations.services.lifecycle import generation_enqueue, generation_terminal_notify
from products.services import product_resolve_for_tryon, product_snapshot, product_touch
from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.http_fetch import FetchError, url_fetch, url_validate
from tryon_project.images import ImageRejected
from tryon_project.storage import blob_atomic, blob_read, blob_save

logger = logging.getLogger("tryon.generations")

MOCK_TITLE = "mock"


def _customer_image_resolve(*, account: Account, tryon: TryOnInput) -> tuple[CustomerImage, bool]:
    """The person image and whether this call created it (so a refused call can remove it again)."""
    ref = tryon.customer_image
    if ref.kind is CustomerImageKind.ID:
        return customer_image_get(account=account, image_id=ref.value), False
    if ref.kind is CustomerImageKind.FILE:
        if ref.data is None:
            raise ValueError("a FILE customer image carries its bytes in `data`")
        image = customer_image_create(
            account=account,
            data=ref.data,
            crop=True,
            customer_id=tryon.customer_id,
            retention_days=tryon.retention_days,
            source=ImageSource.FILE,
        )
        return image, True
    try:
        # A download slot of the account (RATE_LIMITED when all are busy), held for the download only; the fetcher
        # hands the database connection back before it connects, so a dripping URL holds neither for long.
        with fetch_slot_hold(account_id=account.pk):
            fetched = url_fetch(url=ref.value)
    except FetchError as exc:
        raise ApiError(
            ErrorCode.CUSTOMER_IMAGE_FETCH_FAILED,
            "The customer image URL could not be downloaded.",
            details=[ErrorDetail(path=ref.path, message=str(exc))],
        ) from exc
    try:
        image = customer_image_create(
            account=account,
            data=fetched.content,
            crop=True,
            customer_id=tryon.customer_id,
            retention_days=tryon.retention_days,
            source=ImageSource.URL,
        )
    except ImageRejected as exc:
        reason = (
            "the file is too large"
            if exc.code is ErrorCode.PAYLOAD_TOO_LARGE
            else "the URL did not return a usable image"
        )
        raise ApiError(
            ErrorCode.CUSTOMER_IMAGE_FETCH_FAILED,
            "The customer image URL could not be used.",
            details=[ErrorDetail(path=ref.path, message=reason)],
        ) from exc
    return image, True


def generation_create(*, account: Account, tryon: TryOnInput) -> Generation:
    """Accept one try-on for `account` and return the new generation (PENDING; COMPLETED at once for the `mock`
    product, which is free).

    `tryon` is plain data (:class:`generations.inputs.TryOnInput`): the API builds it with
    `tryon_input_parse`, other callers (the dashboard) build it directly, e.g.
    ``TryOnInput(product=ProductInput(external_id="sku-1"), customer_image=CustomerImageRef(
    kind=CustomerImageKind.FILE, value="photo", path="customer.fileKey", data=photo_bytes))``.

    In order: a `webhook_url` is checked against the outbound rules (VALIDATION_FAILED), an account without credit
    is refused (INSUFFICIENT_CREDITS) before any image work, the person image is resolved (IMAGE_NOT_FOUND,
    CUSTOMER_IMAGE_FETCH_FAILED, INVALID_IMAGE, PAYLOAD_TOO_LARGE; RATE_LIMITED when the account's concurrent URL
    downloads are all busy, see accounts/fetch_slots.py), then one transaction resolves the product
    (PRODUCT_NOT_FOUND, PRODUCT_IMAGES_REQUIRED), reserves the credit and inserts the row; the worker task is sent
    after commit. Every refusal is an :class:`~tryon_project.api.errors.ApiError` and leaves nothing behind: a
    person image created by this call is removed again."""
    if tryon.webhook_url:
        # [ext] Checked (without connecting) before anything is created: a refused target is never contacted.
        try:
            url_validate(url=tryon.webhook_url)
        except FetchError as exc:
            raise validation_error([ErrorDetail(path="webhookUrl", message=str(exc))]) from exc
    if tryon.product.title != MOCK_TITLE and account.credit_balance < 1:
        # Cheap early refusal before any download or image work; the reserve below is the real arbiter.
        account.refresh_from_db(fields=["credit_balance"])
        if account.credit_balance < 1:
            raise ApiError(ErrorCode.INSUFFICIENT_CREDITS, "No credit left on this account.")

    customer_image, created_here = _customer_image_resolve(account=account, tryon=tryon)
    try:
        # The scope owns every object stored inside it (an inline product's uploads, the mock result): when any
        # step after them fails, the credit reservation included, they are deleted with the rollback.
        with blob_atomic():
            product = product_resolve_for_tryon(account=account, fields=tryon.product)
            is_mock = product.title == MOCK_TITLE
            generation = Generation(
                account=account,
                product=product,
                product_external_id=product.external_id,
                product_snapshot=product_snapshot(product=product),
                customer_image=customer_image,
                person_image_key=customer_image.storage_key,
                customer_id=tryon.customer_id or customer_image.customer_id,
                retention_days=customer_image.retention_days,
                use_watermark=tryon.use_watermark,
                is_mock=is_mock,
                # The engine it is for, named even when it is the server's default: a failure then shows the same
                # engine a completion would.
                engine="mock" if is_mock else (account.engine or engine_registry().default),
                webhook_url=tryon.webhook_url,
                engine_options=tryon.engine_options,
            )
            if is_mock:
                _mock_complete(generation=generation, person_key=customer_image.storage_key)
            else:
                credits_reserve(account=account, generation_ref=generation.id)
            generation.save(force_insert=True)
            # The resolve above locked (or created) the row in this transaction: the touch need not lock it again.
            product_touch(product=product, row_locked=True)
            if is_mock:
                _mock_times_align(generation=generation)
                generation_terminal_notify(
                    generation_id=generation.id, account_id=account.pk, webhook_url=generation.webhook_url
                )
            else:
                transaction.on_commit(lambda: generation_enqueue(generation_id=generation.id))
    except Exception:
        if created_here:
            customer_image_discard(image=customer_image)
        raise
    return generation


def _mock_complete(*, generation: Generation, person_key: str) -> None:
    """The `mock` product: instantly COMPLETED with the processed customer photo as the result, free of charge."""
    now = timezone.now()
    generation.result_key = blob_save(kind="result", data=blob_read(key=person_key), content_type="image/jpeg")
    generation.status = GenerationStatus.COMPLETED
    generation.duration_ms = 0
    generation.result_expires_at = now + timedelta(days=generation.retention_days)


def _mock_times_align(*, generation: Generation) -> None:
    """The insert stamps `created_at` itself (auto_now_add), after `_mock_complete` ran: the instant result takes
    that same instant, so it never reads as completed before it was created."""
    at = generation.created_at
    Generation.objects.filter(id=generation.id).update(started_at=at, completed_at=at, updated_at=at)
    generation.started_at = generation.completed_at = generation.updated_at = at
