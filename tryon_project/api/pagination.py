"""Opaque keyset cursors for lists ordered newest first by (created_at, id).

A cursor carries the position of the last row of a page. It is signed, so a client can neither forge a position
nor learn anything from it beyond "opaque", and a tampered or truncated cursor is a validation error rather
than a database error. Keyset paging keeps the cost of a page independent of how deep it is and stays stable
while rows are inserted in front of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q

_SALT = "tryon.api.keyset-cursor"


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class KeysetPosition:
    created_at: datetime
    id: int

    def before_q(self) -> Q:
        """Rows strictly after this position in (-created_at, -id) order.

        The redundant `created_at <= …` bound is what lets the database start the index scan at the position
        instead of filtering from the newest row; the OR alone would not be used as an index range."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(created_at=self.created_at, id__lt=self.id)
        )


def cursor_encode(*, position: KeysetPosition, scope: str) -> str:
    """`scope` names the list (e.g. "products"), so a cursor of one list is refused by another."""
    return signing.dumps([scope, position.created_at.isoformat(), position.id], salt=_SALT, compress=False)


def cursor_decode(*, cursor: str, scope: str) -> KeysetPosition:
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature as exc:
        raise InvalidCursor("invalid cursor") from exc
    if not (isinstance(payload, list) and len(payload) == 3 and payload[0] == scope):
        raise InvalidCursor("invalid cursor")
    _, created_at, row_id = payload
    if not isinstance(created_at, str) or not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidCursor("invalid cursor")
    try:
        parsed = datetime.fromisoformat(created_at)
    except ValueError as exc:
        raise InvalidCursor("invalid cursor") from exc
    if parsed.tzinfo is None:
        raise InvalidCursor("invalid cursor")
    return KeysetPosition(created_at=parsed, id=row_id)
