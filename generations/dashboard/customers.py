"""Customers (end users, by the merchant's `customerId`): a search, one page per customer with its photos and
generations, and "Erase this customer", which calls the same erasure service as `DELETE /customers/{id}`.

Customer ids travel in the query string (``?id=``): they are the merchant's own strings and may hold any
character, including "/". Every lookup is scoped to the viewer's account; an operator names the account
(``?account=``) because one customer id can exist in several accounts."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from accounts.admin_display import expiry_in_words, when
from accounts.admin_scoping import is_operator, request_account
from accounts.models import Account
from customers.erasure import customer_erase
from customers.models import CustomerImage
from generations.dashboard import display

MAX_ID_LENGTH = 255


def _account(request, *, source) -> Account:
    """The account the page is about: the merchant's own; for an operator the one in ``?account=`` (404 if
    absent or unknown, so an operator never erases across accounts by accident)."""
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


def _customer_id(source) -> str:
    customer_id = source.get("id", "")
    if not customer_id or len(customer_id) > MAX_ID_LENGTH or "\x00" in customer_id:
        raise Http404("No such customer id.")
    return customer_id


def fingerprint(customer_id: str) -> str:
    """What the audit entry records instead of the id itself: enough to check "was X erased?" by hashing X,
    without keeping the erased person's identifier in the log."""
    return hashlib.sha256(customer_id.encode()).hexdigest()[:16]


def page_url(name: str, *, customer_id: str, account: Account, operator: bool) -> str:
    params = {"id": customer_id, **({"account": account.pk} if operator else {})}
    return reverse(f"admin:generations_generation_{name}") + "?" + urlencode(params)


def customer_search_view(model_admin, request):
    """Customer ids of the viewer's accounts matching ``?q=`` (substring), with counts and last activity."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:MAX_ID_LENGTH]
    generations = model_admin.get_queryset(request).exclude(customer_id="")
    if query:
        generations = generations.filter(customer_id__icontains=query)
    rows = (
        generations.values("account_id", "account__name", "customer_id")
        .annotate(generations=Count("id"), last=Max("created_at"))
        .order_by("-last", "customer_id")
    )
    photos = CustomerImage.objects.exclude(customer_id="")
    if not is_operator(request):
        photos = photos.filter(account=request_account(request))
    page = Paginator(rows, 50).get_page(request.GET.get("p"))
    shown = [row["customer_id"] for row in page]
    counted = {
        (account_id, customer_id): n
        for account_id, customer_id, n in photos.filter(customer_id__in=shown)
        .values("account_id", "customer_id")
        .annotate(n=Count("id"))
        .values_list("account_id", "customer_id", "n")
    }
    operator = is_operator(request)
    for row in page:
        row["photos"] = counted.get((row["account_id"], row["customer_id"]), 0)
        row["last_shown"] = when(row["last"])
        params = {"id": row["customer_id"], **({"account": row["account_id"]} if operator else {})}
        row["url"] = reverse("admin:generations_generation_customer") + "?" + urlencode(params)
    # Shoppers who uploaded a photo but have no generation yet (their photo is still stored, so erasable too).
    photo_only = photos.exclude(
        customer_id__in=model_admin.get_queryset(request).exclude(customer_id="").values("customer_id")
    )
    if query:
        photo_only = photo_only.filter(customer_id__icontains=query)
    uploads_only = list(
        photo_only.values("account_id", "account__name", "customer_id")
        .annotate(photos=Count("id"), last=Max("created_at"))
        .order_by("-last", "customer_id")[:50]
    )
    for row in uploads_only:
        row["last_shown"] = when(row["last"])
        params = {"id": row["customer_id"], **({"account": row["account_id"]} if operator else {})}
        row["url"] = reverse("admin:generations_generation_customer") + "?" + urlencode(params)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Customers",
        "opts": model_admin.model._meta,
        "query": query,
        "page": page,
        "uploads_only": uploads_only,
        "is_operator": operator,
    }
    return TemplateResponse(request, "admin/generations/customers.html", context)


def _customer_data(*, model_admin, request, account: Account, customer_id: str):
    generations = (
        model_admin.get_queryset(request).filter(account=account, customer_id=customer_id).order_by("-created_at")
    )
    photos = CustomerImage.objects.filter(account=account, customer_id=customer_id).order_by("-created_at")
    return generations, photos


def customer_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    account, customer_id = _account(request, source=request.GET), _customer_id(request.GET)
    generations, photos = _customer_data(
        model_admin=model_admin, request=request, account=account, customer_id=customer_id
    )
    operator = is_operator(request)
    cards = [
        {
            "id": generation.pk,
            "url": reverse("admin:generations_generation_change", args=(quote(generation.pk),)),
            "pictures": display.triptych(generation),
            "product": display.product_label(generation),
            "status": display.status_badge(generation),
            "error": display.error_in_words(generation),
            "created": when(generation.created_at),
        }
        for generation in generations[:60]
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Customer {customer_id}",
        "opts": model_admin.model._meta,
        "customer_id": customer_id,
        "account": account,
        "is_operator": operator,
        "photos": [
            {
                "picture": display.picture(photo.storage_key, alt="customer photo", css_class="customer-photo"),
                "id": photo.pk,
                "expires": expiry_in_words(photo.expires_at),
            }
            for photo in photos
        ],
        "cards": cards,
        "generation_count": generations.count(),
        "gallery_url": reverse("admin:generations_generation_changelist") + "?" + urlencode({"customer": customer_id}),
        "erase_url": page_url("customer_erase", customer_id=customer_id, account=account, operator=operator),
    }
    return TemplateResponse(request, "admin/generations/customer.html", context)


def customer_erase_view(model_admin, request):
    """GET: what will be erased, and a confirmation form. POST (with ``confirm``): the erasure itself."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    account, customer_id = _account(request, source=source), _customer_id(source)
    generations, photos = _customer_data(
        model_admin=model_admin, request=request, account=account, customer_id=customer_id
    )
    operator = is_operator(request)
    if request.method == "POST" and source.get("confirm") == "yes":
        counts = (generations.count(), photos.count())
        keys = customer_erase(account=account, customer_id=customer_id)
        # The audit trail: who and when (the admin log records both), and what, without the id itself.
        model_admin.log_change(
            request,
            account,
            (
                f"Erased a customer's data from the dashboard (customer fingerprint {fingerprint(customer_id)}): "
                f"{counts[0]} generation(s), {counts[1]} photo(s), {len(keys)} stored file(s) scheduled for deletion."
            ),
        )
        messages.success(
            request,
            f"Customer {customer_id} erased: {counts[0]} generation(s) and {counts[1]} "
            f"photo(s); the stored files are being deleted.",
        )
        back = reverse("admin:generations_generation_customers")
        return HttpResponseRedirect(back + (f"?{urlencode({'account': account.pk})}" if operator else ""))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Erase customer {customer_id}?",
        "opts": model_admin.model._meta,
        "customer_id": customer_id,
        "account": account,
        "is_operator": operator,
        "generation_count": generations.count(),
        "photo_count": photos.count(),
        "back_url": page_url("customer", customer_id=customer_id, account=account, operator=operator),
    }
    return TemplateResponse(request, "admin/generations/customer_erase.html", context)
