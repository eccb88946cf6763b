"""How one generation is drawn in the dashboard: the person, garment and result pictures, the product's title,
the status in words and what happened to its images."""

from __future__ import annotations

from django.utils.html import format_html

from accounts.admin_display import badge, when
from generations.models import Generation, GenerationStatus
from tryon_project.storage import blob_signed_url

THUMB = 160

_STATUS_TONES = {
    GenerationStatus.PENDING: ("Waiting", "info"),
    GenerationStatus.PROCESSING: ("Running", "info"),
    GenerationStatus.COMPLETED: ("Completed", "good"),
    GenerationStatus.FAILED: ("Failed", "bad"),
}


def picture(key: str, *, alt: str, css_class: str, size: int = THUMB, link: bool = True) -> str:
    """A stored image through a short-lived signed URL; a click opens it full size."""
    url = blob_signed_url(key=key).url
    image = format_html(
        '<img src="{}" alt="{}" class="dash-thumb {}" loading="lazy" referrerpolicy="no-referrer"'
        ' style="height:{}px;width:{}px">',
        url,
        alt,
        css_class,
        size,
        size,
    )
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, image) if link else image


def missing(text: str, *, css_class: str, size: int = THUMB) -> str:
    return format_html(
        '<div class="dash-thumb-missing {}" style="height:{}px;width:{}px">{}</div>', css_class, size, size, text
    )


def erased_or_expired(generation: Generation) -> str:
    """Why the pictures are gone. Erasure (DELETE /customers/{id}) clears the person image before the result's
    expiry; the retention purge clears the result at or after it."""
    expires = generation.result_expires_at
    if generation.result_deleted and expires and generation.updated_at < expires:
        return f"erased on {when(generation.updated_at)}"
    if generation.result_deleted:
        return f"expired on {when(expires)}"
    return ""


def person_picture(generation: Generation, *, size: int = THUMB) -> str:
    if generation.person_image_key:
        return picture(generation.person_image_key, alt="person", css_class="generation-before", size=size)
    gone = erased_or_expired(generation) or "no photo stored"
    return missing(gone, css_class="generation-before-missing", size=size)


def garment_picture(generation: Generation, *, size: int = THUMB) -> str:
    refs = sorted((generation.product_snapshot or {}).get("images") or [], key=lambda ref: ref.get("order", 0))
    stored = next((ref["stored_key"] for ref in refs if ref.get("stored_key")), None)
    if stored:
        return picture(stored, alt="garment", css_class="generation-garment", size=size)
    text = "garment not downloaded yet" if refs else "no garment image"
    return missing(text, css_class="generation-garment-missing", size=size)


def result_picture(generation: Generation, *, size: int = THUMB) -> str:
    if generation.result_key and not generation.result_deleted:
        return picture(generation.result_key, alt="result", css_class="generation-after", size=size)
    if generation.result_deleted:
        text = erased_or_expired(generation)
    elif generation.status == GenerationStatus.FAILED:
        text = "no result: failed"
    else:
        text = "not ready yet"
    return missing(text, css_class="generation-after-missing", size=size)


def triptych(generation: Generation, *, size: int = THUMB) -> str:
    """Person → garment → result, each at least 160 px."""
    return format_html(
        '<div class="triptych">'
        "<figure>{}<figcaption>person</figcaption></figure><span class='arrow'>+</span>"
        "<figure>{}<figcaption>garment</figcaption></figure><span class='arrow'>→</span>"
        "<figure>{}<figcaption>result</figcaption></figure></div>",
        person_picture(generation, size=size),
        garment_picture(generation, size=size),
        result_picture(generation, size=size),
    )


def status_badge(generation: Generation) -> str:
    label, tone = _STATUS_TONES.get(generation.status, (generation.status, "neutral"))
    return badge(label, tone=tone, css_class="generation-status")


def product_label(generation: Generation) -> str:
    """The title the product had when the generation was made, with its external id."""
    title = (generation.product_snapshot or {}).get("title") or ""
    external_id = generation.product_external_id
    if title:
        return format_html('<span class="title">{}</span> <code class="dash-muted">{}</code>', title, external_id)
    if external_id.startswith("_anon_"):
        return format_html('<span class="title">One-off garment</span> <code class="dash-muted">{}</code>', external_id)
    return format_html("<code>{}</code>", external_id)


def error_in_words(generation: Generation) -> str:
    if generation.status != GenerationStatus.FAILED:
        return ""
    return format_html(
        '<span class="error">{}</span> <code class="dash-muted">{}</code>',
        generation.error_message or "Failed.",
        generation.error_code or "",
    )


def engine_name(generation: Generation) -> str:
    # The engine that ran (recorded with the timings) or, before it ran, the one the account asked for.
    return (generation.timings or {}).get("engine") or generation.engine or "default"
