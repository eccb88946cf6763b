"""Every registered dashboard URL, as an operator and as a merchant: no page answers 5xx.

The URLs are read from the admin site itself (every registered model admin's own URL patterns, custom pages
included), so a page added later is walked without editing this test. Each one is requested with GET, and the
add/change forms are also submitted empty: an empty form must come back with errors (or a refusal), never crash.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from tests.dashboard.helpers import Shop
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create, webhook_events_enqueue

D = "/dashboard"


def _patterns(model_admin) -> list[URLPattern]:
    found = []
    for entry in model_admin.get_urls():
        if isinstance(entry, URLResolver):
            found.extend(entry.url_patterns)
        elif entry.name:
            found.append(entry)
    return found


def _first_object(model_admin, shop: Shop):
    """The shop's own row of this model (merchants only reach their own; the walk uses the same row for both)."""
    queryset = model_admin.model._default_manager.all()
    if model_admin.model is get_user_model():
        return queryset.get(username=shop.username)
    path = getattr(model_admin, "account_path", "account")
    if path and any(field.name == path.split("__")[0] for field in model_admin.model._meta.get_fields()):
        queryset = queryset.filter(**{path: shop.account})
    elif path == "pk":
        queryset = queryset.filter(pk=shop.account.pk)
    return queryset.order_by("pk").first()


def _urls(shop: Shop) -> list[tuple[str, str]]:
    """(name, url) of every named dashboard URL, with a real object id where the pattern takes one."""
    urls = [("index", reverse("admin:index")), ("password change", reverse("admin:password_change"))]
    for model, model_admin in admin.site._registry.items():
        obj = _first_object(model_admin, shop)
        for pattern in _patterns(model_admin):
            name = f"admin:{pattern.name}"
            converters = pattern.pattern.converters
            if not converters:
                urls.append((pattern.name, reverse(name)))
            elif len(converters) == 1 and obj is not None:
                urls.append((pattern.name, reverse(name, kwargs={next(iter(converters)): obj.pk})))
            elif len(converters) == 1:
                continue  # no row of this model to open (e.g. a model with no data in this setup)
            else:
                pytest.fail(f"unknown URL parameters {sorted(converters)} in {pattern.name}: add them here")
        opts = model._meta
        urls.append(
            (
                f"{opts.label} autocomplete",
                f"{reverse('admin:autocomplete')}?app_label={opts.app_label}&model_name={opts.model_name}"
                "&field_name=account&term=a",
            )
        )
    return urls


class _FormFields(HTMLParser):
    """What a browser would submit from the page's main form when SAVE is pressed without typing anything."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "button", "file", "checkbox"):
            self.data[name] = attributes.get("value") or ""
        elif tag == "input" and name and attributes.get("type") == "checkbox" and "checked" in attributes:
            self.data[name] = attributes.get("value") or "on"
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and (self._select not in self.data or "selected" in attributes):
            self.data[self._select] = attributes.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def _submitted_as_is(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    data = {name: value for name, value in parser.data.items() if name not in ("q", "action")}
    data["_save"] = "Save"
    return data


def _with_data(shop: Shop) -> list[tuple[str, str]]:
    """The custom pages again with the query strings they take, for the account and for an operator."""
    g = "/dashboard/generations/generation"
    urls = []
    for extra in ("", f"&account={shop.account.pk}"):
        urls += [
            ("customer", f"{g}/customers/view/?id=alpha-shopper{extra}"),
            ("customer erase", f"{g}/customers/erase/?id=alpha-shopper{extra}"),
            ("customer search", f"{g}/customers/?q=shop{extra}"),
            ("playground", f"{g}/try-on/?generation={shop.generation.pk}{extra}"),
            ("overview", f"{g}/overview/?x=1{extra}"),
            ("export", f"{g}/export.csv?created_from=2020-01-01&created_to=not-a-date{extra}"),
            ("gallery", f"{g}/?created_from=2020-01-01&customer=alpha-shopper&engine_ran=local{extra}"),
        ]
    return [*urls, ("try-on short address", "/dashboard/try-on/")]


def _walk(client: Client, shop: Shop) -> list[str]:
    client.raise_request_exception = False
    crashes = []
    for name, url in [*_urls(shop), *_with_data(shop)]:
        response = client.get(url)
        if response.status_code >= 500:
            crashes.append(f"GET {url} ({name}): {response.status_code}")
        if name.endswith(("_add", "_change")):
            # Submitted twice: with nothing at all, and as the page's form stands (what SAVE sends untouched).
            forms = [{}]
            if response.status_code == 200:
                forms.append(_submitted_as_is(response.content.decode()))
            for data in forms:
                posted = client.post(url, data)
                if posted.status_code >= 500:
                    crashes.append(f"POST {url} ({name}) {sorted(data)}: {posted.status_code}")
    return crashes


@pytest.fixture
def with_deliveries(alpha, beta, settings):
    # A delivery (and its attempt-log page) exists for each shop, so the webhook pages are walked with a row.
    # The endpoint URL is on loopback, allowed here, so saving it resolves nothing outside the machine.
    settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    for shop in (alpha, beta):
        webhook_endpoint_create(account=shop.account, url="http://127.0.0.1/in")
        webhook_events_enqueue(generation_id=shop.generation.pk)
    assert WebhookDelivery.objects.count() == 2


def test_no_dashboard_url_crashes_for_an_operator(alpha, beta, operator, with_deliveries):
    assert _walk(operator, alpha) == []


def test_no_dashboard_url_crashes_for_a_merchant(alpha, beta, with_deliveries):
    client = alpha.login()
    assert _walk(client, alpha) == []
    # The walk reaches the pages themselves, not only refusals: the merchant's own custom pages open.
    for name, url in _with_data(alpha):
        assert client.get(url).status_code in (200, 302), (name, url)


def test_the_walk_covers_every_registered_model_and_its_custom_pages(alpha, with_deliveries):
    urls = dict(_urls(alpha))
    for model in admin.site._registry:
        opts = model._meta
        assert f"{opts.app_label}_{opts.model_name}_changelist" in urls, opts.label
    assert "generations_generation_overview" in urls
    assert "accounts_account_topup" in urls
