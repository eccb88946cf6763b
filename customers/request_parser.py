"""The `POST /images/upload` form -> one `ImageUploadInput`: the form's shape normaliser, then the one schema
(`customers.serializers.ImageUploadSerializer`), every offending field in one VALIDATION_FAILED answer under the
name the client sent it, then the photo part's bytes.

Accepted shapes: the 1.0-1.3 names `customerId` and `retentionDays`, or their 1.4 names `externalUserId` and
`keepForDays`, as plain form fields next to a `file` part (no `data` part)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from customers.serializers import ImageUploadSerializer
from tryon_project.api.request_schema import schema_validate
from tryon_project.images import check_file_size

# Canonical member -> its 1.4 name. A form sending both keeps the older one and ignores the other: form clients
# have always been answered that way, unlike JSON bodies, where a mix of revisions is refused.
_RENAMED = {"customerId": "externalUserId", "retentionDays": "keepForDays"}


@dataclass(frozen=True)
class ImageUploadInput:
    data: bytes = field(repr=False)
    crop: bool
    customer_id: str
    retention_days: int | None


def image_upload_normalise(*, form: Mapping, upload: object | None) -> tuple[dict, dict[str, str]]:
    """The form's values under the schema's canonical names (one value per field: the last one sent), and where
    each renamed one came from. `upload` is the `file` part, never a text field of that name."""
    data: dict = {} if upload is None else {"file": upload}
    paths: dict[str, str] = {}
    if "crop" in form:
        data["crop"] = form.get("crop")
    for canonical, renamed in _RENAMED.items():
        if canonical in form:
            data[canonical] = form.get(canonical)
        elif renamed in form:
            data[canonical] = form.get(renamed)
            paths[canonical] = renamed
    return data, paths


def image_upload_parse(*, form: Mapping, upload: object | None) -> ImageUploadInput:
    """Validate the form; the part's declared size is checked after the fields and before it is read into memory,
    and its bytes go to the one image path with the service."""
    data, paths = image_upload_normalise(form=form, upload=upload)
    values = schema_validate(schema=ImageUploadSerializer(data=data), paths=paths)
    part = values["file"]
    check_file_size(size=part.size or 0)
    return ImageUploadInput(
        data=part.read(),
        crop=values["crop"],
        customer_id=values.get("customerId", ""),
        retention_days=values.get("retentionDays"),
    )
