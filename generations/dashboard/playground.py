"""The try-on playground: a photo (uploaded, or a recent customer photo) and a garment (a catalog product, or
an uploaded image) start a real generation through `generation_create`, the service behind `POST /try-on`:
charged like one, counted in the account's rate limit, run by the same worker. The page then follows the
generation until its result shows, beside the inputs, with a download link."""

from __future__ import annotations

import math
import time

from django import forms
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from limits import RateLimitItemPerMinute
from redis.exceptions import RedisError

from accounts.admin_scoping import is_operator, request_account
from accounts.models import Account
from accounts.throttling import limiter
from customers.models import CustomerImage
from engines.base import GarmentPhotoType, Quality
from generations.dashboard import display
from generations.engine_options import SEED_MAX, engine_options_parse
from generations.inputs import CustomerImageKind, CustomerImageRef, TryOnInput
from generations.models import Generation, GenerationStatus
from generations.services.create import generation_create
from products.inputs import ImageInput, ProductInput
from products.models import ProductCategory, ProductKind
from products.selectors import products_live
from tryon_project.api.errors import ApiError
from tryon_project.images import ImageRejected, check_file_size, image_normalize
from tryon_project.storage import blob_signed_url

PLAYGROUND_MESSAGE = "Started from the dashboard's try-on playground."
RECENT_PHOTOS = 12


class PlaygroundForm(forms.Form):
    # Plain file fields: the bytes are checked and decoded only by the project's one image path, as for the API.
    photo = forms.FileField(required=False, help_text="JPEG, PNG, WebP or HEIC; at most 10 MB.")
    recent_photo = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="or a recent customer photo")
    product = forms.ChoiceField(required=False, label="Catalog product")
    garment = forms.FileField(
        required=False, label="or a garment image", help_text="A one-off garment, not added to the catalog."
    )
    category = forms.ChoiceField(
        choices=ProductCategory.choices,
        initial=ProductCategory.AUTO,
        required=False,
        help_text="For an uploaded garment; a catalog product keeps its own.",
    )
    customer_id = forms.CharField(
        max_length=255,
        required=False,
        label="Customer id",
        help_text="Optional: files the generation under this customer.",
    )
    use_watermark = forms.BooleanField(required=False, initial=True, label="Add the account's watermark")
    # The API's per-call engine options (`options` of POST /try-on); empty means "not sent", as in the API.
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=SEED_MAX,
        label="Seed",
        help_text="options.seed: the same seed and inputs give the same result where the engine is deterministic.",
    )
    quality = forms.ChoiceField(
        choices=[("", "not sent (balanced)"), *((choice.value, choice.value) for choice in Quality)],
        required=False,
        label="Quality",
        help_text="options.quality: speed against fidelity.",
    )
    garment_photo_type = forms.ChoiceField(
        choices=[("", "not sent (auto)"), *((choice.value, choice.value) for choice in GarmentPhotoType)],
        required=False,
        label="Garment photo type",
        help_text="options.garmentPhotoType: the garment alone (flat-lay) or worn by a model.",
    )

    def __init__(self, *args, photos, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recent_photo"].choices = [(photo.pk, photo.pk) for photo in photos]
        self.fields["product"].choices = [("", "—")] + [
            (product.external_id, f"{product.title} ({product.external_id})" if product.title else product.external_id)
            for product in products
        ]

    def clean(self):
        data = super().clean()
        if bool(data.get("photo")) == bool(data.get("recent_photo")):
            raise forms.ValidationError("Upload a photo or pick a recent customer photo (one of the two).")
        if bool(data.get("garment")) == bool(data.get("product")):
            raise forms.ValidationError("Pick a catalog product or upload a garment image (one of the two).")
        for name in ("photo", "garment"):
            if data.get(name):
                check = data[name]
                try:
                    check_file_size(size=check.size or 0)
                except ImageRejected as exc:
                    self.add_error(name, exc.message)
        return data


def _account(request, source) -> Account:
    if not is_operator(request):
        account = request_account(request)
        if account is None:
            raise PermissionDenied
        return account
    value = source.get("account", "")
    account = Account.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if account is None:
        raise Http404("Choose the account.")
    return account


def _rate_limited(*, account: Account) -> int:
    """0 when the try-on may start; else the seconds until the account's window (shared with the API) frees."""
    item = RateLimitItemPerMinute(account.rate_limit_per_minute)
    identifier = f"account:{account.pk}"
    try:
        if limiter().hit(item, identifier):
            return 0
        stats = limiter().get_window_stats(item, identifier)
    except RedisError:
        return 0  # like the API: an unreachable limit store lets the request through (credits still bound it)
    return max(1, math.ceil(stats.reset_time - time.time()))


def _tryon_input(*, form: PlaygroundForm) -> TryOnInput:
    data = form.cleaned_data
    if data.get("photo"):
        photo = data["photo"]
        photo.seek(0)
        person = CustomerImageRef(
            kind=CustomerImageKind.FILE, value=photo.name or "photo", path="photo", data=photo.read()
        )
    else:
        person = CustomerImageRef(kind=CustomerImageKind.ID, value=data["recent_photo"], path="recent_photo")
    if data.get("product"):
        product = ProductInput(external_id=data["product"])
    else:
        garment = data["garment"]
        garment.seek(0)
        try:
            image = image_normalize(data=garment.read())
        except ImageRejected as exc:
            raise ApiError(exc.code, exc.message) from exc
        product = ProductInput(
            images=(ImageInput(data=image.data, content_type=image.content_type),),
            category=data.get("category") or ProductCategory.AUTO,
        )
    return TryOnInput(
        product=product,
        customer_image=person,
        customer_id=data.get("customer_id", ""),
        use_watermark=bool(data.get("use_watermark")),
        engine_options=_engine_options(data=data),
    )


def _engine_options(*, data: dict) -> dict[str, object]:
    """The form's options in the API's shape, through the API's own validator (an option left empty is not
    sent, so the engine's default applies and nothing is reported as ignored)."""
    sent = {
        "seed": data.get("seed"),
        "quality": data.get("quality") or None,
        "garmentPhotoType": data.get("garment_photo_type") or None,
    }
    return engine_options_parse(value={key: value for key, value in sent.items() if value is not None})


def _mark_from_dashboard(*, request, generation: Generation) -> None:
    """The generation's history (the admin log) records that it came from here, and who started it."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk,
        queryset=[generation],
        action_flag=ADDITION,
        change_message=PLAYGROUND_MESSAGE,
        single_object=True,
    )


def started_from_dashboard(*, generation: Generation) -> LogEntry | None:
    return (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Generation),
            object_id=generation.pk,
            change_message=PLAYGROUND_MESSAGE,
        )
        .select_related("user")
        .first()
    )


def playground_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    operator = is_operator(request)
    source = request.POST if request.method == "POST" else request.GET
    if operator and not source.get("account", "").isdigit():
        return _choose_account(model_admin, request)
    account = _account(request, source)
    photos = list(
        CustomerImage.objects.filter(account=account, expires_at__gt=timezone.now()).order_by("-created_at")[
            :RECENT_PHOTOS
        ]
    )
    products = list(
        products_live(account=account).exclude(kind=ProductKind.ONE_SHOT).order_by("-last_used_at", "external_id")[:200]
    )
    form = PlaygroundForm(request.POST or None, request.FILES or None, photos=photos, products=products)
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = _rate_limited(account=account)
        if wait:
            form.add_error(
                None,
                f"This account's rate limit ({account.rate_limit_per_minute} per minute, shared "
                f"with the API) is reached: try again in {wait} s.",
            )
            status = 429
        else:
            try:
                generation = generation_create(account=account, tryon=_tryon_input(form=form))
            except ApiError as exc:
                form.add_error(None, f"{exc.message} ({exc.code.name})")
                status = exc.http_status
            else:
                _mark_from_dashboard(request=request, generation=generation)
                params = {"generation": generation.pk, **({"account": account.pk} if operator else {})}
                return HttpResponseRedirect(
                    reverse("admin:generations_generation_playground") + "?" + urlencode(params)
                )
    current = None
    generation_id = request.GET.get("generation", "")
    if generation_id:
        current = model_admin.get_queryset(request).filter(account=account, pk=generation_id).first()
        if current is None:
            raise Http404("No such generation.")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Try on",
        "opts": model_admin.model._meta,
        "form": form,
        "account": account,
        "is_operator": operator,
        "photos": [
            {
                "id": photo.pk,
                "picture": display.picture(
                    photo.storage_key, alt="customer photo", css_class="recent-photo", size=96, link=False
                ),
            }
            for photo in photos
        ],
        "current": current,
        "current_state": _state(current) if current else None,
    }
    return TemplateResponse(request, "admin/generations/playground.html", context, status=status)


def _choose_account(model_admin, request):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Try on: choose the account",
        "opts": model_admin.model._meta,
        "accounts": Account.objects.order_by("name"),
    }
    return TemplateResponse(request, "admin/generations/playground_account.html", context)


def _state(generation: Generation) -> dict:
    state = {
        "id": generation.pk,
        "status": generation.status,
        "done": generation.status in (GenerationStatus.COMPLETED, GenerationStatus.FAILED),
        "error": generation.error_message if generation.status == GenerationStatus.FAILED else "",
        "errorCode": generation.error_code,
        "personUrl": blob_signed_url(key=generation.person_image_key).url if generation.person_image_key else "",
        "resultUrl": "",
        "seconds": round(generation.duration_ms / 1000, 1) if generation.duration_ms is not None else None,
        # What was sent in `options`, and what the engine that ran reported it could not honour (docs/api.md).
        "options": dict(generation.engine_options or {}),
        "ignoredOptions": list((generation.timings or {}).get("ignored_options") or []),
    }
    if generation.status == GenerationStatus.COMPLETED and generation.result_key and not generation.result_deleted:
        state["resultUrl"] = blob_signed_url(key=generation.result_key).url
    refs = sorted((generation.product_snapshot or {}).get("images") or [], key=lambda ref: ref.get("order", 0))
    stored = next((ref["stored_key"] for ref in refs if ref.get("stored_key")), None)
    state["garmentUrl"] = blob_signed_url(key=stored).url if stored else ""
    return state


def playground_status_view(model_admin, request, generation_id: str):
    """What the playground page polls while the generation runs (JSON; scoped: another account's id is 404)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    generation = model_admin.get_queryset(request).filter(pk=generation_id).first()
    if generation is None:
        raise Http404("No such generation.")
    response = JsonResponse(_state(generation))
    response["Cache-Control"] = "no-store"
    return response
