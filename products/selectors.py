"""Reads for products. Every read is scoped to an account, and expired products are absent from all of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from products.models import LISTED_KINDS, Product
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.pagination import KeysetPosition, cursor_encode

CURSOR_SCOPE = "products"


def product_not_found(external_id: str) -> ApiError:
    return ApiError(ErrorCode.PRODUCT_NOT_FOUND, f"Product '{external_id[:255]}' not found.")


def products_live(*, account: Account, now: datetime | None = None) -> QuerySet[Product]:
    """The account's products that have not expired (one indexed comparison on the denormalised expires_at)."""
    now = now or timezone.now()
    return Product.objects.filter(account=account).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def product_get(*, account: Account, external_id: str) -> Product:
    """One live product with its images (any kind, `_anon_` ids included); PRODUCT_NOT_FOUND otherwise."""
    product = products_live(account=account).filter(external_id=external_id).prefetch_related("images").first()
    if product is None:
        raise product_not_found(external_id)
    return product


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    next_cursor: str | None
    has_more: bool


def product_list_page(*, account: Account, limit: int, after: KeysetPosition | None) -> ProductPage:
    """One page of the catalog, newest first, after `after` (a decoded cursor).

    Keyset paging on (created_at, id) over the partial list index: a page costs the same at any depth and in
    any catalog size, and products created while a client pages never shift it (they sort before page 1).
    One-shot products are never listed."""
    queryset = products_live(account=account).filter(kind__in=LISTED_KINDS)
    if after is not None:
        queryset = queryset.filter(after.before_q())
    rows = list(queryset.order_by("-created_at", "-id").prefetch_related("images")[: limit + 1])
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = cursor_encode(position=KeysetPosition(created_at=last.created_at, id=last.pk), scope=CURSOR_SCOPE)
    return ProductPage(items=items, next_cursor=next_cursor, has_more=has_more)
