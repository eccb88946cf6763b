"""product_image_bytes: uploaded bytes from storage; URL images downloaded once through the safe fetcher, normalised,
cached and reused. product_snapshot: what a generation keeps."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from PIL import Image

from products.errors import ProductImageUnavailable
from products.inputs import ImageInput, ProductInput
from products.models import ProductImage
from products.selectors import product_get
from products.services import product_image_bytes, product_snapshot, product_upsert, snapshot_image_bytes
from tests.images import jpeg_bytes, png_bytes
from tests.products.conftest import PRODUCTS, multipart
from tests.storage_fixtures import all_storage_keys
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.storage import blob_delete


class _Server:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                status, content_type, body = server.routes.get(self.path, (404, "text/plain", b"missing"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    instance = _Server()
    thread = threading.Thread(target=instance.httpd.serve_forever, daemon=True)
    thread.start()
    with override_settings(TRYON_FETCH_ALLOW_NETWORKS=["127.0.0.1/32"], TRYON_FETCH_ALLOWED_PORTS=[instance.port]):
        yield instance
    instance.httpd.shutdown()
    instance.httpd.server_close()


def _product(account, *urls: str):
    product, _ = product_upsert(
        account=account,
        external_id="p",
        mode="inline",
        fields=ProductInput(images=tuple(ImageInput(url=url) for url in urls)),
    )
    return product


def test_url_image_is_downloaded_once_and_cached(account, server):
    server.routes["/front.png"] = (200, "image/png", png_bytes(width=300, height=200))
    product = _product(account, server.url("/front.png"))
    image = product.images.get()
    first = product_image_bytes(image=image)
    decoded = Image.open(io.BytesIO(first))
    assert (decoded.format, decoded.size) == ("JPEG", (300, 200))  # normalised, not the original PNG
    stored = ProductImage.objects.get(pk=image.pk)
    assert stored.cached_key and stored.fetched_at
    assert all_storage_keys() == [stored.cached_key]
    # A fresh row object, as a later generation would load it: no second download.
    again = product_image_bytes(image=ProductImage.objects.get(pk=image.pk))
    assert again == first
    assert server.hits == ["/front.png"]
    # The same images re-sent by the next inline try-on keep the cache.
    product = _product(account, server.url("/front.png"))
    product_image_bytes(image=product.images.get())
    assert server.hits == ["/front.png"]


def test_a_lost_cache_is_downloaded_again(account, server):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes())
    image = _product(account, server.url("/a.jpg")).images.get()
    product_image_bytes(image=image)
    stale = ProductImage.objects.get(pk=image.pk)
    lost_key = stale.cached_key
    blob_delete(key=lost_key)
    product_image_bytes(image=stale)
    refreshed = ProductImage.objects.get(pk=image.pk)
    assert refreshed.cached_key not in (None, lost_key)
    assert all_storage_keys() == [refreshed.cached_key]
    assert len(server.hits) == 2


def test_racing_workers_keep_one_copy(account, server):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes())
    image = _product(account, server.url("/a.jpg")).images.get()
    # Both workers loaded the row before either cached it.
    first, second = ProductImage.objects.get(pk=image.pk), ProductImage.objects.get(pk=image.pk)
    data_first = product_image_bytes(image=first)
    data_second = product_image_bytes(image=second)
    assert data_first == data_second
    kept = ProductImage.objects.get(pk=image.pk).cached_key
    assert kept == first.cached_key
    assert all_storage_keys() == [kept]


def test_an_image_removed_meanwhile_leaves_no_blob(account, server):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes())
    image = _product(account, server.url("/a.jpg")).images.get()
    ProductImage.objects.filter(pk=image.pk).delete()
    assert product_image_bytes(image=image)
    assert all_storage_keys() == []


@pytest.mark.parametrize(
    "route, code",
    [
        ((404, "text/plain", b"missing"), "PRODUCT_IMAGE_FETCH_FAILED"),
        ((500, "text/plain", b"boom"), "PRODUCT_IMAGE_FETCH_FAILED"),
        ((200, "image/jpeg", b"not an image at all"), "PRODUCT_IMAGE_INVALID"),
        ((200, "image/jpeg", jpeg_bytes(width=20, height=20)), "PRODUCT_IMAGE_INVALID"),
    ],
)
def test_failures(account, server, route, code):
    server.routes["/x.jpg"] = route
    image = _product(account, server.url("/x.jpg")).images.get()
    with pytest.raises(ProductImageUnavailable) as caught:
        product_image_bytes(image=image)
    assert caught.value.code is GenerationErrorCode[code]
    assert "127.0.0.1" not in caught.value.message
    assert ProductImage.objects.get(pk=image.pk).cached_key is None
    assert all_storage_keys() == []


def test_blocked_address_is_a_fetch_failure(account):
    # Without the test allowance, loopback is refused by the one fetcher.
    image = _product(account, "http://127.0.0.1:9/x.jpg").images.get()
    with pytest.raises(ProductImageUnavailable) as caught:
        product_image_bytes(image=image)
    assert caught.value.code is GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED


def test_uploaded_image_is_read_from_storage(api, account, jpeg):
    api.post(PRODUCTS, data=multipart({"externalId": "up", "images": [{"fileKey": "f"}]}, f=jpeg))
    image = ProductImage.objects.get()
    data = product_image_bytes(image=image)
    assert Image.open(io.BytesIO(data)).size == (120, 160)
    blob_delete(key=image.upload_key)
    with pytest.raises(ProductImageUnavailable) as caught:
        product_image_bytes(image=image)
    assert caught.value.code is GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED


def test_snapshot(api, account, jpeg, server):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes())
    body = {
        "externalId": "snap",
        "title": "Tee",
        "description": "Soft",
        "category": "tops",
        "images": [{"url": server.url("/a.jpg")}, {"fileKey": "f"}],
    }
    api.post(PRODUCTS, data=multipart(body, f=jpeg))
    product = product_get(account=account, external_id="snap")
    url_image, upload_image = product.images.all()
    product_image_bytes(image=url_image)
    product = product_get(account=account, external_id="snap")
    snapshot = product_snapshot(product=product)
    url_image, upload_image = product.images.all()
    assert snapshot == {
        "account_id": account.pk,
        "external_id": "snap",
        "title": "Tee",
        "description": "Soft",
        "category": "tops",
        "images": [
            {
                "image_id": url_image.pk,
                "order": 0,
                "source_url": server.url("/a.jpg"),
                "upload_ref": None,
                "stored_key": url_image.cached_key,
            },
            {
                "image_id": upload_image.pk,
                "order": 1,
                "source_url": None,
                "upload_ref": upload_image.upload_ref,
                "stored_key": upload_image.upload_key,
            },
        ],
    }
    assert url_image.cached_key and upload_image.upload_key


def test_snapshot_image_bytes_outlives_the_product(api, account, jpeg, server, django_capture_on_commit_callbacks):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes(width=90, height=120))
    body = {"externalId": "snap", "images": [{"fileKey": "f"}, {"url": server.url("/a.jpg")}]}
    api.post(PRODUCTS, data=multipart(body, f=jpeg))
    snapshot = product_snapshot(product=product_get(account=account, external_id="snap"))
    sizes = [Image.open(io.BytesIO(data)).size for data in snapshot_image_bytes(snapshot=snapshot)]
    assert sizes == [(120, 160), (90, 120)]
    assert snapshot_image_bytes(snapshot=snapshot) and server.hits == ["/a.jpg"]  # cached on the live row
    # Deleted while a generation was in flight: the uploaded bytes are gone, the URL is downloaded again.
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"{PRODUCTS}/snap")
    with pytest.raises(ProductImageUnavailable) as caught:
        snapshot_image_bytes(snapshot=snapshot)
    assert caught.value.code is GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED
    url_only = {**snapshot, "images": snapshot["images"][1:]}
    assert Image.open(io.BytesIO(snapshot_image_bytes(snapshot=url_only)[0])).size == (90, 120)
    assert server.hits == ["/a.jpg", "/a.jpg"]
    assert all_storage_keys() == []


def test_snapshot_rows_of_another_account_are_not_used(account, server):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes())
    product = _product(account, server.url("/a.jpg"))
    snapshot = {**product_snapshot(product=product), "account_id": account.pk + 1000}
    snapshot_image_bytes(snapshot=snapshot)
    # Served from the URL without touching (or caching on) a row outside the snapshot's account.
    assert ProductImage.objects.get().cached_key is None


def test_transient_fetch_failures_are_retryable(account, server):
    server.routes["/x.jpg"] = (503, "text/plain", b"busy")
    image = _product(account, server.url("/x.jpg")).images.get()
    with pytest.raises(ProductImageUnavailable) as caught:
        product_image_bytes(image=image)
    assert (caught.value.code, caught.value.retryable) == (GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED, True)
    server.routes["/x.jpg"] = (404, "text/plain", b"gone")
    with pytest.raises(ProductImageUnavailable) as caught:
        product_image_bytes(image=image)
    assert caught.value.retryable is False


def test_stored_images_on_every_storage_backend(api, any_storage, jpeg, server, django_capture_on_commit_callbacks):
    server.routes["/a.jpg"] = (200, "image/jpeg", jpeg_bytes(width=90, height=120))
    body = {"externalId": "s", "images": [{"fileKey": "f"}, {"url": server.url("/a.jpg")}]}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(PRODUCTS, data=multipart(body, f=jpeg)).status_code == 201
    upload, remote = ProductImage.objects.order_by("order")
    assert Image.open(io.BytesIO(product_image_bytes(image=upload))).size == (120, 160)
    assert Image.open(io.BytesIO(product_image_bytes(image=remote))).size == (90, 120)
    assert sorted(all_storage_keys()) == sorted([upload.upload_key, remote.cached_key])
    blob_delete(key=remote.cached_key)
    product_image_bytes(image=remote)  # a lost cache is downloaded again
    assert len(server.hits) == 2
    blob_delete(key=upload.upload_key)
    with pytest.raises(ProductImageUnavailable):
        product_image_bytes(image=upload)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{PRODUCTS}/s").status_code == 204
    assert all_storage_keys() == []
