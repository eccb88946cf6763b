"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the live test server.

With DASHBOARD_SCREENSHOTS=1 the tests also write the screenshots embedded in docs/dashboard.md.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
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
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
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
    context = browser.new_context(viewport={"width": 1280, "height": 800})
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
            SCREENSHOTS / f"{name}.png", optimize=True)


_PIXEL_JS = """([img, x, y]) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
}"""


def _preview_after(page, version: int) -> int:
    page.wait_for_function(
        "v => Number(document.getElementById('watermark-preview').dataset.version) > v", arg=version)
    preview = page.locator("#watermark-preview")
    assert preview.get_attribute("data-state") == "ready", page.inner_text("#watermark-preview-error")
    return int(preview.get_attribute("data-version"))


def _preview_pixel(page, xy: tuple[int, int]) -> tuple[int, ...]:
    return tuple(page.locator("#watermark-preview").evaluate(
        "(img, xy) => (" + _PIXEL_JS + ")([img, xy[0], xy[1]])", list(xy)))


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
    generation = completed_generation(account=merchant, person=person.getvalue(), result=result,
                                      external_id="red-tee", customer_id="shopper-1")

    _login(page, site)
    page.click("#overview-link")
    assert page.inner_text("#overview-today .value").strip() == "1"
    assert page.inner_text("#overview-credits .value").strip() == "20"
    _screenshot(page, "overview")

    page.goto(f"{site}/dashboard/generations/generation/")
    page.wait_for_function("() => [...document.images].filter(i => i.src.includes('/files/'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    _screenshot(page, "generations")
    page.click(f"text={generation.pk}")
    # (The admin quotes "_" in primary keys in its URLs.)
    page.wait_for_url("**/generations/generation/*/change/")
    assert generation.pk in page.inner_text("#content")
    for selector in ("img.generation-before", "img.generation-after"):
        image = page.locator(selector)
        image.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.locator("img.generation-after").evaluate("img => img.naturalWidth") == Image.open(
        io.BytesIO(result)).width
    assert "COMPLETED" in page.inner_text(".generation-status")
    _screenshot(page, "generation")
