"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the live test server.

With DASHBOARD_SCREENSHOTS=1 the tests also write the screenshots embedded in docs/dashboard.md.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.contrib.admin.utils import quote
from django.contrib.staticfiles import finders
from PIL import Image, ImageDraw, ImageFont

from accounts.services import dashboard_user_create
from tests.conftest import ApiClient
from tests.dashboard.helpers import completed_generation
from tests.factories import AccountFactory
from tests.watermark.images import close, opaque_logo
from watermark.compositing import watermark_composite
from watermark.models import WatermarkSettings
from watermark.services import watermark_apply_for_account, watermark_settings_update

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "dashboard"
MAGENTA = (255, 0, 255)
PASSWORD = "pw-browser-123"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def site(live_server, settings) -> str:
    # Signed file URLs point at the server the browser talks to.
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def merchant(transactional_db):
    account = AccountFactory(name="north-shop", credits=20)
    dashboard_user_create(account=account, username="north", password=PASSWORD)
    return account


def _login(page, site: str) -> None:
    page.goto(f"{site}/dashboard/login/?next=/dashboard/")
    page.fill("#id_username", "north")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/dashboard/")


def _screenshot(page, name: str) -> None:
    if os.environ.get("DASHBOARD_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(page.screenshot(full_page=False))) as shot:
        # A 256-colour palette keeps the admin's flat colours and the photos legible at a fraction of the size.
        shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            SCREENSHOTS / f"{name}.png", optimize=True
        )


_PIXEL_JS = """([img, x, y]) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
}"""


def _preview_after(page, version: int) -> int:
    page.wait_for_function("v => Number(document.getElementById('watermark-preview').dataset.version) > v", arg=version)
    preview = page.locator("#watermark-preview")
    assert preview.get_attribute("data-state") == "ready", page.inner_text("#watermark-preview-error")
    return int(preview.get_attribute("data-version"))


def _preview_pixel(page, xy: tuple[int, int]) -> tuple[int, ...]:
    return tuple(
        page.locator("#watermark-preview").evaluate("(img, xy) => (" + _PIXEL_JS + ")([img, xy[0], xy[1]])", list(xy))
    )


def _expected(sample: bytes, logo: bytes, xy: tuple[int, int], **settings) -> tuple[int, ...]:
    drawn = watermark_composite(image=sample, logo=logo, **settings)
    with Image.open(io.BytesIO(drawn)) as image:
        return image.convert("RGB").getpixel(xy)


def _badge() -> bytes:
    """A shop logo with transparent corners, for a realistic screenshot."""
    logo = Image.new("RGBA", (360, 100), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((3, 3, 356, 96), radius=46, fill=(255, 255, 255, 235), outline=(20, 20, 20, 255), width=5)
    draw.text((180, 50), "NORTH SHOP", font=ImageFont.load_default(size=44), fill=(20, 20, 20, 255), anchor="mm")
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


def test_merchant_uploads_a_logo_and_the_preview_follows(site, merchant, page):
    with open(finders.find("watermark/sample-result.jpg"), "rb") as handle:
        sample = handle.read()
    width, height = Image.open(io.BytesIO(sample)).size
    logo = opaque_logo(color=MAGENTA)  # 2:1
    box_w, margin = round(width * 0.20), round(width * 0.03)  # the form's defaults: 20 % wide, 3 % margin
    bottom_right = (width - margin - box_w // 2, height - margin - box_w // 4)
    top_left = (margin + box_w // 2, margin + box_w // 4)

    _login(page, site)
    page.click("text=Watermark settings")
    page.wait_for_url("**/watermark/watermarksettings/add/")
    version = _preview_after(page, 0)
    bare = _preview_pixel(page, bottom_right)

    page.set_input_files("#id_logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo}])
    version = _preview_after(page, version)
    drawn = _preview_pixel(page, bottom_right)
    defaults = {"size_pct": 20, "opacity_pct": 80, "margin_pct": 3}
    assert not close(drawn, bare, tolerance=40)
    assert close(drawn, _expected(sample, logo, bottom_right, position="bottom-right", **defaults), tolerance=16)

    page.select_option("#id_position", "top-left")
    page.fill("#id_opacity_pct", "100")
    version = _preview_after(page, version)
    page.wait_for_function("() => document.getElementById('watermark-preview').dataset.state === 'ready'")
    assert close(_preview_pixel(page, top_left), MAGENTA, tolerance=16)
    assert close(_preview_pixel(page, bottom_right), bare, tolerance=16)
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "1":
        # The documentation shows a realistic logo rather than the test's solid block.
        page.set_input_files("#id_logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _badge()}])
        page.fill("#id_size_pct", "30")
        page.fill("#id_opacity_pct", "85")
        _preview_after(page, version)
        page.wait_for_function("() => document.getElementById('watermark-preview').dataset.state === 'ready'")
        _screenshot(page, "watermark")

    page.click("input[name=_continue]")
    page.wait_for_url("**/watermark/watermarksettings/*/change/")
    logo_image = page.locator("img.watermark-logo")
    logo_image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=logo_image.element_handle())
    saved = WatermarkSettings.objects.get(account=merchant)
    assert (saved.position, saved.has_logo) == ("top-left", True)


def test_merchant_creates_an_api_key_and_sees_it_once(site, merchant, page):
    _login(page, site)
    page.goto(f"{site}/dashboard/accounts/apikey/add/")
    page.fill("#id_name", "storefront")
    page.click("input[name=_save]")
    page.wait_for_url("**/accounts/apikey/")
    key = page.inner_text("#new-api-key").strip()
    assert key.startswith("tok_") and len(key) > 30
    _screenshot(page, "api-key")
    # The key works against the API ...
    assert ApiClient(key).get("/tryon/v1/generations/gen_unknown").status_code == 404
    # ... and is never shown again: not on reload, not on the key's own page (only its prefix).
    page.reload()
    assert page.locator("#new-api-key").count() == 0
    assert key not in page.content()
    page.click("text=storefront")
    body = page.content()
    assert key not in body and key[:12] in body


def test_merchant_opens_a_completed_generation_and_sees_both_images(site, merchant, page):
    from skimage import data

    person = io.BytesIO()
    Image.fromarray(data.astronaut()).save(person, format="JPEG", quality=85)
    with open(finders.find("watermark/sample-result.jpg"), "rb") as handle:
        engine_result = handle.read()
    watermark_settings_update(account=merchant, logo=_badge(), size_pct=30, opacity_pct=85)
    result = watermark_apply_for_account(account=merchant, image=engine_result)
    generation = completed_generation(
        account=merchant, person=person.getvalue(), result=result, external_id="red-tee", customer_id="shopper-1"
    )

    _login(page, site)
    page.click("#overview-link")
    assert page.inner_text("#overview-today .value").strip() == "1"
    assert page.inner_text("#overview-credits .value").strip() == "20"

    page.goto(f"{site}/dashboard/generations/generation/")
    page.wait_for_function(
        "() => [...document.images].filter(i => i.src.includes('/files/')).every(i => i.complete && i.naturalWidth > 0)"
    )
    page.click(f"a.generation-link:text('{generation.pk}')")
    # (The admin quotes "_" in primary keys in its URLs.)
    page.wait_for_url("**/generations/generation/*/change/")
    assert generation.pk in page.inner_text("#content")
    for selector in ("img.generation-before", "img.generation-after"):
        image = page.locator(selector)
        image.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert (
        page.locator("img.generation-after").evaluate("img => img.naturalWidth") == Image.open(io.BytesIO(result)).width
    )
    assert "Completed" in page.inner_text(".generation-status")
    _screenshot(page, "generation")


# --- the merchant pages: playground, customers, gallery, webhooks, overview, products, isolation ---------------
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


class SampleEngine:
    """A test engine whose result is the right-hand third of docs/samples/quickstart-result.jpg (the local
    engine's output for the shipped person and t-shirt), so browser runs and screenshots show a real picture
    without running a model."""

    name = "sample"
    version = "1"

    def __init__(self):
        self.calls = []

    def run(self, request):
        from engines.base import TryOnResult

        self.calls.append(request)
        with Image.open(io.BytesIO(_sample("quickstart-result.jpg"))) as strip:
            width, height = strip.size
            result = strip.convert("RGB").crop((width * 2 // 3, 0, width, height))
        buffer = io.BytesIO()
        result.save(buffer, "JPEG", quality=90)
        # Like the local engine, it honours no per-call option; unlike it, it says so (as hosted engines do).
        requested = sorted(request.options.requested) if request is not None else []
        return TryOnResult(
            image=buffer.getvalue(),
            content_type="image/jpeg",
            engine="sample",
            engine_version="1",
            timings_ms={"engine": 5.0},
            diagnostics={"ignored_options": requested} if requested else {},
        )


@pytest.fixture
def sample_engine(eager):
    from generations.engine_config import engine_registry

    engine = SampleEngine()
    with engine_registry().override(name="*", engine=engine):
        yield engine


def _images_loaded(page, selector: str = "img") -> None:
    """Every stored image in view has loaded (lazy ones below the fold load only when scrolled to)."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].filter(i => i.src.includes('/files/') && !i.hidden"
        " && i.getBoundingClientRect().top < innerHeight).every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )


def _catalog_product(account, *, external_id: str = "blue-tee", title: str = "Blue cotton tee"):
    from products.inputs import ImageInput, ProductInput
    from products.services import product_upsert
    from tryon_project.images import image_normalize

    garment = image_normalize(data=_sample("tshirt.jpg"))
    product, _ = product_upsert(
        account=account,
        external_id=external_id,
        mode="catalog",
        fields=ProductInput(title=title, images=(ImageInput(data=garment.data, content_type=garment.content_type),)),
    )
    return product


def _history(account, *, product, customer_id: str = "shopper-42"):
    """A month of generations for charts and the gallery: completed and failed, on several days."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services import credits_reserve
    from generations.models import Generation
    from products.services import product_snapshot

    snapshot = product_snapshot(product=product)
    person, result = _sample("person.jpg"), SampleEngine().run(None).image
    made = []
    for days_ago, count, failures in ((0, 3, 1), (1, 2, 0), (3, 4, 1), (8, 2, 1), (15, 5, 0), (22, 3, 2)):
        for index in range(count + failures):
            if index < count:
                row = completed_generation(
                    account=account,
                    person=person,
                    result=result,
                    external_id=product.external_id,
                    customer_id=customer_id,
                    duration_ms=1800 + 400 * index,
                    product=product,
                    product_snapshot=snapshot,
                )
                credits_reserve(account=account, generation_ref=row.pk)  # charged, as the API would
            else:
                row = Generation.objects.create(
                    account=account,
                    product=product,
                    product_external_id=product.external_id,
                    product_snapshot=snapshot,
                    status="FAILED",
                    error_code="PERSON_NOT_DETECTED",
                    error_message="No person was found in the photo.",
                    duration_ms=700,
                    completed_at=timezone.now(),
                    customer_id=customer_id,
                )
            Generation.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
            made.append(row)
    return made


def test_playground_try_on_from_upload_to_result(site, merchant, page, sample_engine):
    from accounts.models import Account
    from generations.models import Generation

    _catalog_product(merchant)
    _login(page, site)
    page.goto(f"{site}/dashboard/try-on/")
    page.wait_for_url("**/generations/generation/try-on/")
    page.set_input_files(
        "#id_photo", files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": _sample("person.jpg")}]
    )
    page.select_option("#id_product", "blue-tee")
    page.fill("#id_customer_id", "walk-in-1")
    page.click("#playground-submit")
    page.wait_for_url("**/try-on/?generation=*")
    output = page.locator("#playground-output")
    output.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=output.element_handle())
    _images_loaded(page, "#playground-result img")
    generation = Generation.objects.get(account=merchant, customer_id="walk-in-1")
    assert generation.status == "COMPLETED" and len(sample_engine.calls) == 1
    assert page.get_attribute("#playground-download", "href") == page.get_attribute("#playground-output", "src")
    assert Account.objects.get(pk=merchant.pk).credit_balance == 19
    _screenshot(page, "playground")


def test_playground_sends_engine_options_and_shows_the_ignored_ones(site, merchant, page, sample_engine):
    from generations.models import Generation

    _catalog_product(merchant)
    _login(page, site)
    page.goto(f"{site}/dashboard/try-on/")
    page.set_input_files(
        "#id_photo", files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": _sample("person.jpg")}]
    )
    page.select_option("#id_product", "blue-tee")
    page.fill("#id_customer_id", "options-1")
    # The browser itself refuses a seed outside the API's range before anything is sent.
    page.fill("#id_seed", "-5")
    page.click("#playground-submit")
    assert page.locator("#id_seed").evaluate("input => input.validity.rangeUnderflow") is True
    assert not Generation.objects.filter(account=merchant).exists()
    page.fill("#id_seed", "4242")
    page.select_option("#id_quality", "fast")
    page.select_option("#id_garment_photo_type", "flat-lay")
    page.click("#playground-submit")
    page.wait_for_url("**/try-on/?generation=*")
    ignored = page.locator("#playground-ignored")
    ignored.wait_for(state="visible")
    assert ignored.inner_text().strip() == "Ignored by the engine: garmentPhotoType, quality, seed"
    assert page.inner_text("#playground-options").strip() == (
        "Options sent: seed 4242, quality fast, garmentPhotoType flat-lay"
    )
    generation = Generation.objects.get(account=merchant, customer_id="options-1")
    assert generation.engine_options == {"seed": 4242, "quality": "fast", "garmentPhotoType": "flat-lay"}
    assert sample_engine.calls[0].options.seed == 4242
    # The page's poll reads the same from the status URL.
    state = page.evaluate("url => fetch(url).then(r => r.json())", page.get_attribute("#playground-status", "data-url"))
    assert state["ignoredOptions"] == ["garmentPhotoType", "quality", "seed"]


def test_merchant_sets_its_time_zone_and_every_time_follows(site, merchant, page):
    from datetime import UTC, datetime

    from generations.models import Generation

    generation = completed_generation(
        account=merchant, person=_sample("person.jpg"), result=_sample("person.jpg"), external_id="tz-tee"
    )
    Generation.objects.filter(pk=generation.pk).update(created_at=datetime(2026, 12, 2, 13, 3, tzinfo=UTC))
    _login(page, site)
    change = f"{site}/dashboard/generations/generation/{quote(generation.pk)}/change/"
    page.goto(change)
    assert "2 Dec 2026, 13:03 UTC" in page.inner_text("#content")
    page.goto(f"{site}/dashboard/accounts/account/{merchant.pk}/change/")
    assert page.locator("#id_time_zone").input_value() == "UTC"
    page.select_option("#id_time_zone", "Europe/Paris")
    page.click("input[name=_save]")
    page.wait_for_url("**/accounts/account/**")
    merchant.refresh_from_db()
    assert merchant.time_zone == "Europe/Paris"
    page.goto(change)
    assert "2 Dec 2026, 14:03 CET" in page.inner_text("#content")
    page.goto(f"{site}/dashboard/generations/generation/")
    assert "2 Dec 2026, 14:03 CET" in page.inner_text("#generation-gallery")
    page.click("#overview-link")
    assert "Europe/Paris" in page.inner_text("#overview-per-day h2")


def test_erasing_a_customer_from_its_page(site, merchant, page):
    from customers.services import customer_image_create

    product = _catalog_product(merchant)
    upload = customer_image_create(account=merchant, data=_sample("person.jpg"), crop=False, customer_id="shopper-42")
    generation = _history(merchant, product=product)[0]
    key, _ = _api_key(merchant)
    _login(page, site)
    page.click("#customers-link")
    page.fill("#customer-q", "shopper")
    page.click("#customer-search input[type=submit]")
    page.click("a.customer-link")
    page.wait_for_url("**/customers/view/?id=shopper-42")
    _images_loaded(page)
    assert upload.pk in page.inner_text("#customer-photos")
    _screenshot(page, "customer")
    page.click("#erase-customer")
    page.wait_for_url("**/customers/erase/?id=shopper-42")
    _screenshot(page, "customer-erase")
    page.click("#erase-confirm")
    page.wait_for_url("**/customers/")
    assert "Customer shopper-42 erased" in page.inner_text(".messagelist")
    body = ApiClient(key).get(f"/tryon/v1/generations/{generation.pk}").json()
    assert body["resultDeleted"] is True and body.get("resultUrl") in (None, "")


def _api_key(account):
    from accounts.services import api_key_create

    return api_key_create(account=account, name="browser")[1], None


def test_gallery_filters(site, merchant, page):
    product = _catalog_product(merchant)
    made = _history(merchant, product=product)
    _catalog_product(merchant, external_id="red-dress", title="Red summer dress")
    _login(page, site)
    page.click("#generations-link")
    # The click only starts the navigation: wait for the gallery itself, not the page it leaves.
    page.wait_for_url("**/dashboard/generations/generation/")
    page.wait_for_selector(".dash-card")
    _images_loaded(page)
    assert page.locator(".dash-card").count() == 24  # all of them: a page holds 24
    _screenshot(page, "generations")
    page.click("#changelist-filter a:text-is('Failed')")
    page.wait_for_url("**status__exact=FAILED**")
    assert page.locator(".dash-card").count() == sum(1 for row in made if row.status == "FAILED") == 5
    assert "No person was found in the photo." in page.inner_text("#generation-gallery")
    page.fill("#filter-customer input[name=customer]", "someone-else")
    page.click("#filter-customer input[type=submit]")
    page.wait_for_url("**customer=someone-else**")
    assert page.locator("#generation-gallery-empty").count() == 1
    page.goto(f"{site}/dashboard/generations/generation/")
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    page.fill("#filter-date-range input[name=created_from]", today)
    page.click("#filter-date-range input[type=submit]")
    page.wait_for_url(f"**created_from={today}**")
    assert page.locator(".dash-card").count() == 4  # today's 3 completed and 1 failed


def test_webhook_test_event(site, merchant, page, settings):
    from tests.webhooks.receiver import receiver_server, verify
    from webhooks.services import webhook_endpoint_create

    with receiver_server() as receiver:
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [80, 443, receiver.port]
        endpoint, secret = webhook_endpoint_create(account=merchant, url=receiver.url("/north"))
        _login(page, site)
        page.goto(f"{site}/dashboard/webhooks/webhookendpoint/{quote(endpoint.pk)}/change/")
        page.click("#send-test-event")
        page.wait_for_url("**/test-event/")
        assert page.get_attribute("#test-event-attempt", "data-succeeded") == "yes"
        assert page.inner_text("#test-event-status").strip() == "HTTP 200"
        [received] = receiver.received
        assert verify(secret=secret, headers=received.headers, body=received.body)
        assert received.headers["webhook-id"] == page.inner_text("#test-event-id").strip()
        _screenshot(page, "webhook-test-event")


def test_overview_charts_render_with_data(site, merchant, page):
    product = _catalog_product(merchant)
    _history(merchant, product=product)
    _login(page, site)
    page.click("#overview-link")
    bars = page.locator("#chart-per-day g.day")
    assert bars.count() == 30
    today = bars.nth(29)
    assert (today.get_attribute("data-completed"), today.get_attribute("data-failed")) == ("3", "1")
    height = float(page.locator("#chart-per-day g.day").nth(29).locator("rect.completed").get_attribute("height"))
    assert height > 0
    assert page.locator("#chart-time circle").count() == 6  # six days with completed generations
    assert "Blue cotton tee" in page.inner_text("#overview-top-products")
    assert "PERSON_NOT_DETECTED" in page.inner_text("#overview-failures")
    # Nothing on the page comes from another host.
    assert page.evaluate(
        "() => performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin))"
    )
    _screenshot(page, "overview")
    page.goto(f"{site}/dashboard/products/product/")
    page.click("text=Blue cotton tee")
    page.wait_for_url("**/products/product/*/change/")
    _images_loaded(page)
    assert page.inner_text("#stat-total").strip() == "24"
    _screenshot(page, "product")


def test_another_merchant_reaches_nothing_of_the_first(site, merchant, page):
    from customers.services import customer_image_create

    product = _catalog_product(merchant)
    upload = customer_image_create(account=merchant, data=_sample("person.jpg"), crop=False, customer_id="shopper-42")
    generation = _history(merchant, product=product)[0]
    other = AccountFactory(name="south-shop", credits=5)
    dashboard_user_create(account=other, username="south", password=PASSWORD)
    page.goto(f"{site}/dashboard/login/?next=/dashboard/")
    page.fill("#id_username", "south")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/dashboard/")
    d = f"{site}/dashboard"
    for url in (
        f"{d}/generations/generation/{quote(generation.pk)}/change/",
        f"{d}/products/product/{quote(product.pk)}/change/",
        f"{d}/customers/customerimage/{quote(upload.pk)}/change/",
        f"{d}/generations/generation/try-on/{generation.pk}/status/",
        f"{d}/generations/generation/try-on/?generation={generation.pk}",
    ):
        response = page.goto(url)
        assert response.status == 404, url
    # Pages that list by customer or product show nothing of north's, and no image of it.
    for url in (
        f"{d}/generations/generation/customers/view/?id=shopper-42",
        f"{d}/generations/generation/?customer=shopper-42",
        f"{d}/generations/generation/",
        f"{d}/products/product/",
        f"{d}/customers/customerimage/",
        f"{d}/generations/generation/overview/",
    ):
        page.goto(url)
        html = page.content()
        for secret in (generation.pk, upload.pk, upload.storage_key, generation.result_key, "Blue cotton tee"):
            assert secret not in html, (url, secret)
        assert page.locator("img[src*='/files/']").count() == 0, url
    page.goto(f"{d}/generations/generation/{quote(generation.pk)}/change/")
    assert page.get_attribute("#error-page", "data-status") == "404"
    _screenshot(page, "not-found")
