from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from django.db.models import Avg, Count, Q

from accounts.models import Account
from generations.models import EngineProviderError, Generation, GenerationStatus
from tryon_project.api.datetimes import iso_ms
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.compiled_query import CompiledQuery
from tryon_project.storage import blob_signed_url


@dataclass(frozen=True)
class GenerationWireRow:
    """The columns the generation object needs, and its owner: all that a poll reads of the row."""

    id: str
    account_id: int
    status: str
    product_external_id: str
    result_key: str
    result_expires_at: datetime | None
    result_deleted: bool
    error_code: str
    error_message: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    duration_ms: int | None

    @property
    def is_terminal(self) -> bool:
        return self.status in (GenerationStatus.COMPLETED, GenerationStatus.FAILED)


# Polls are the hottest read: the SQL is compiled once per process, not on every request.
_WIRE_ROW_READ = CompiledQuery(
    build=lambda generation_id: (
        Generation.objects.filter(id=generation_id)
        .order_by()
        .values_list(*(field.name for field in fields(GenerationWireRow)))
    )
)


def generation_wire_row(*, generation_id: str) -> GenerationWireRow | None:
    """The wire columns of a generation by id, whoever owns it (callers compare `account_id`), in one query."""
    row = _WIRE_ROW_READ.first_row(value=generation_id)
    return GenerationWireRow(*row) if row is not None else None


def generation_poll_wire(*, account: Account, generation_id: str) -> dict:
    """`GET /generations/{id}`: the generation object of this account's generation, in one query; 403 FORBIDDEN
    for another account's id (docs/api.md), 404 when no account has it."""
    row = generation_wire_row(generation_id=generation_id)
    if row is None:
        raise ApiError(ErrorCode.GENERATION_NOT_FOUND, "Generation not found.")
    if row.account_id != account.pk:
        raise ApiError(ErrorCode.FORBIDDEN, "This generation belongs to another account.")
    return generation_wire(generation=row)


def generation_accepted_wire(*, generation: Generation) -> dict:
    """The 202 body. Always PENDING, mock included (docs/api.md "The mock product")."""
    return {
        "generationId": generation.id,
        "status": GenerationStatus.PENDING.value,
        "productExternalId": generation.product_external_id,
    }


def generation_wire(*, generation: Generation | GenerationWireRow) -> dict:
    """The generation object (docs/api.md "GET /generations/{id}"): optional fields are omitted, never null. The
    result URL is signed afresh on every read and never stored."""
    body: dict = {
        "generationId": generation.id,
        "status": generation.status,
        "productExternalId": generation.product_external_id,
    }
    if generation.status == GenerationStatus.COMPLETED:
        if generation.result_key:
            signed = blob_signed_url(key=generation.result_key)
            body["resultImageUrl"] = signed.url
            # When this URL stops working: its signature's expiry, or the result's deletion if that comes first.
            expires_at = signed.expires_at
            if generation.result_expires_at is not None:
                expires_at = min(expires_at, generation.result_expires_at)
            body["resultImageExpiresAt"] = iso_ms(expires_at)
        elif generation.result_deleted:
            body["resultDeleted"] = True
    if generation.status == GenerationStatus.FAILED:
        body["errorCode"] = generation.error_code
        body["errorMessage"] = generation.error_message
    body["createdAt"] = iso_ms(generation.created_at)
    body["updatedAt"] = iso_ms(generation.updated_at)
    if generation.completed_at is not None:
        body["completedAt"] = iso_ms(generation.completed_at)
    if generation.duration_ms is not None:
        body["durationMs"] = generation.duration_ms
    return body


@dataclass(frozen=True)
class AccountEngineStatus:
    """The operator's view of an account's engine: which one, its model id and licence, its last provider error."""

    engine: str
    model_id: str
    licence: str
    last_error: EngineProviderError | None


def account_engine_status(*, account: Account) -> AccountEngineStatus:
    """The engine this account's generations run on (its override or the server default) and its last error."""
    from generations.engine_config import engine_describe

    description = engine_describe(name=account.engine or None)
    last_error = EngineProviderError.objects.filter(account=account, engine=description.name).first()
    return AccountEngineStatus(
        engine=description.name,
        model_id=description.model_id,
        licence=description.licence,
        last_error=last_error,
    )


def product_generation_stats(
    *, account: Account, external_id: str, date_from: datetime | None, date_to: datetime | None
) -> dict[str, int]:
    """Generation counts for one product in an inclusive window, in one aggregate query (docs/products.md).

    Matched on the generation's own snapshot of the external id, so the figures survive edits of the product
    and cover one-shot products alike. A generations read: the catalog knows nothing of generations."""
    generations = Generation.objects.filter(account=account, product_external_id=external_id)
    if date_from is not None:
        generations = generations.filter(created_at__gte=date_from)
    if date_to is not None:
        generations = generations.filter(created_at__lte=date_to)
    completed = Q(status=GenerationStatus.COMPLETED)
    figures = generations.aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=completed),
        failed=Count("pk", filter=Q(status=GenerationStatus.FAILED)),
        average=Avg("duration_ms", filter=completed),
    )
    return {
        "totalGenerations": figures["total"],
        "completedGenerations": figures["completed"],
        "failedGenerations": figures["failed"],
        "avgGenerationTimeMs": round(figures["average"] or 0),
    }


def generation_product_keys_in_use(*, keys: list[str]) -> set[str]:
    """Of these scheduled deletions, the product image objects a queued or running try-on still reads: it uses
    the images it was accepted with (its snapshot's stored copies), even when the product was edited or deleted
    since. Registered with the storage's deletion run (GenerationsConfig.ready()); reads across accounts, like
    the reaper, and returns keys only (they are random, never customer data)."""
    wanted = {key for key in keys if key.startswith("product")}
    if not wanted:
        return set()
    in_use: set[str] = set()
    snapshots = Generation.objects.filter(status__in=(GenerationStatus.PENDING, GenerationStatus.PROCESSING))
    for snapshot in snapshots.values_list("product_snapshot", flat=True).iterator():
        for ref in (snapshot or {}).get("images") or []:
            if ref.get("stored_key") in wanted:
                in_use.add(ref["stored_key"])
    return in_use
