"""Writes for products (`<entity>_<verb>`, keyword-only). The public surface other apps use:

- :func:`product_upsert` — the one create/partial-update path (catalog, inline, one-shot);
- :func:`product_resolve_for_tryon` — a `/try-on` product item → its product (reference, inline, one-shot);
- :func:`product_touch` — record a use (moves the expiry);
- :func:`product_snapshot`, :func:`product_image_bytes`, :func:`snapshot_image_bytes` — what a generation
  keeps and the garment bytes its worker needs (:class:`ProductImageUnavailable` on failure);
- :func:`product_delete`, :func:`product_purge_expired`.
"""

from products.errors import ProductImageUnavailable
from products.services.images import product_image_bytes, product_snapshot, snapshot_image_bytes
from products.services.lifecycle import product_delete, product_purge_expired, product_touch
from products.services.upsert import ProductMode, product_resolve_for_tryon, product_upsert

__all__ = [
    "ProductImageUnavailable",
    "ProductMode",
    "product_delete",
    "product_image_bytes",
    "product_purge_expired",
    "product_resolve_for_tryon",
    "product_snapshot",
    "product_touch",
    "product_upsert",
    "snapshot_image_bytes",
]
