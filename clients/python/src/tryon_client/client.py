"""`TryOnClient`: one method per operation of the Try-On API v1, over an `httpx2.Client`.

Retries, and why each is safe:
- 429 `RATE_LIMITED` and 409 `IDEMPOTENCY_KEY_IN_USE` did no work, so the same request is sent again after the
  answer's `Retry-After` (when that is within `max_retry_wait`).
- 5xx answers and dropped connections are retried with exponential backoff only when replaying cannot do the work
  twice: reads, the (idempotent) erasure, and writes that carry an `Idempotency-Key`.
Everything else raises the typed error of its code at once (tryon_client.errors).
"""

from __future__ import annotations

import json
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast

import httpx2

from tryon_client._version import __version__
from tryon_client.errors import (
    CONNECTION_ERROR,
    APIConnectionError,
    IdempotencyKeyInUseError,
    RateLimitedError,
    ServerError,
    TryOnError,
    WaitTimeoutError,
    error_from_answer,
)
from tryon_client.files import FilePart, Upload, file_part
from tryon_client.models import (
    TERMINAL_STATUSES,
    CreditBalance,
    CustomerImage,
    EngineOptions,
    Generation,
    ImageUpload,
    Product,
    ProductImageInput,
    ProductItem,
    ProductList,
    ProductStats,
    ProductUpsert,
    RetentionDays,
    TryOnAccepted,
    TryOnRequest,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/tryon/v1"
# Above the server's longest hold (`/try-on/sync` waits up to 90 s), so a sync call is not cut short by us.
DEFAULT_TIMEOUT = httpx2.Timeout(120.0, connect=10.0)
# The part names the photo helpers give the files they attach; a caller's own `files` may not reuse them.
PERSON_PART = "person"
GARMENT_PART_PREFIX = "garment"


def backoff_delay(*, attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half of `base * 2**attempt` (capped) fixed, half random.

    The fixed half keeps a floor under the wait; the random half spreads clients that failed together."""
    nominal = min(cap, base * 2.0**attempt)
    jitter = rng.uniform(0, nominal / 2) if rng is not None else random.uniform(0, nominal / 2)
    return nominal / 2 + jitter


class TryOnClient:
    """A client of one server and one API key. Use it as a context manager, or call `close()`.

    `sleep` and `clock` are the waiting and timekeeping functions the retries and `wait_for` use (`time.sleep`
    and `time.monotonic`); tests and schedulers may pass their own."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_retry_wait: float = 60.0,
        retry_backoff: float = 0.5,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.retry_backoff = retry_backoff
        self._owns_http = http_client is None
        # The key travels per request, never as a default header of the connection pool: `download` uses the same
        # pool for signed result URLs (possibly a storage bucket), which must not receive it.
        self._http = http_client if http_client is not None else httpx2.Client(timeout=timeout)
        self._sleep = sleep
        self._clock = clock

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- account ---------------------------------------------------------------------------------------------

    def get_credits(self, *, request_id: str | None = None) -> CreditBalance:
        """`GET /account/credits`."""
        return cast(CreditBalance, self._call("GET", "/account/credits", request_id=request_id))

    # --- shoppers' photos and erasure ----------------------------------------------------------------------

    def upload_image(
        self,
        *,
        file: Upload,
        crop: bool = True,
        customer_id: str | None = None,
        retention_days: RetentionDays | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> ImageUpload:
        """`POST /images/upload`: the shopper's photo once, for a reusable `imageId`."""
        form = {"crop": "true" if crop else "false"}
        if customer_id is not None:
            form["customerId"] = customer_id
        if retention_days is not None:
            form["retentionDays"] = str(retention_days)
        answer = self._call(
            "POST",
            "/images/upload",
            form=form,
            files={"file": file_part(upload=file, name="photo")},
            idempotency_key=idempotency_key,
            request_id=request_id,
        )
        return cast(ImageUpload, answer)

    def erase_customer(self, customer_id: str, *, request_id: str | None = None) -> None:
        """`DELETE /customers/{customerId}`: erase one shopper's data (GDPR). An unknown id is no error."""
        self._call("DELETE", f"/customers/{_segment(customer_id)}", replay_safe=True, request_id=request_id)

    # --- try-on ------------------------------------------------------------------------------------------------

    def try_on(
        self,
        *,
        product: ProductItem,
        customer: CustomerImage | None = None,
        person_photo: Upload | None = None,
        garment_photos: Sequence[Upload] = (),
        files: Mapping[str, Upload] | None = None,
        customer_id: str | None = None,
        retention_days: RetentionDays | None = None,
        use_watermark: bool | None = None,
        webhook_url: str | None = None,
        options: EngineOptions | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> TryOnAccepted:
        """`POST /try-on`: start a try-on (one credit), answered at once with a `PENDING` generation.

        The photo is `customer` (`{"id": …}`, `{"url": …}` or `{"fileKey": …}`) or `person_photo` (bytes, a path
        or a file object, sent as a part). `garment_photos` are appended to the product's images as parts;
        `files` attaches more parts, named by the `fileKey`s of your own body. With any file the call is
        multipart (`data` + parts), else JSON."""
        answer = self._try_on_call(
            path="/try-on",
            body=_try_on_body(
                product=product,
                customer=customer,
                customer_id=customer_id,
                retention_days=retention_days,
                use_watermark=use_watermark,
                webhook_url=webhook_url,
                options=options,
            ),
            person_photo=person_photo,
            garment_photos=garment_photos,
            files=files,
            idempotency_key=idempotency_key,
            request_id=request_id,
        )
        return cast(TryOnAccepted, answer)

    def try_on_sync(
        self,
        *,
        product: ProductItem,
        customer: CustomerImage | None = None,
        person_photo: Upload | None = None,
        garment_photos: Sequence[Upload] = (),
        files: Mapping[str, Upload] | None = None,
        customer_id: str | None = None,
        retention_days: RetentionDays | None = None,
        use_watermark: bool | None = None,
        webhook_url: str | None = None,
        options: EngineOptions | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Generation | TryOnAccepted:
        """`POST /try-on/sync`: like `try_on`, but the server holds the call up to 90 s.

        A generation that finished in time comes back whole (`COMPLETED` or `FAILED`); one still running comes
        back as from `try_on` (`PENDING`): pass its `generationId` to `wait_for`."""
        answer = self._try_on_call(
            path="/try-on/sync",
            body=_try_on_body(
                product=product,
                customer=customer,
                customer_id=customer_id,
                retention_days=retention_days,
                use_watermark=use_watermark,
                webhook_url=webhook_url,
                options=options,
            ),
            person_photo=person_photo,
            garment_photos=garment_photos,
            files=files,
            idempotency_key=idempotency_key,
            request_id=request_id,
        )
        return cast("Generation | TryOnAccepted", answer)

    def get_generation(self, generation_id: str, *, request_id: str | None = None) -> Generation:
        """`GET /generations/{id}`."""
        return cast(Generation, self._call("GET", f"/generations/{_segment(generation_id)}", request_id=request_id))

    def wait_for(
        self,
        generation_id: str,
        *,
        timeout: float = 300.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 5.0,
        request_id: str | None = None,
    ) -> Generation:
        """Poll `GET /generations/{id}` until `COMPLETED` or `FAILED`, and return that generation.

        The nominal wait between polls doubles from `poll_interval` up to `max_poll_interval`; each actual wait
        is between half and all of it (jitter: clients started together do not poll in step). A 429 or 503 on
        the way is waited out exactly as its `Retry-After` says; other 5xx answers and dropped connections are
        polled through with the backoff. Past `timeout` seconds, raises `WaitTimeoutError` (with the last
        generation seen); a `Retry-After` that would end past it raises at once. A FAILED generation is
        returned, not raised: read its `errorCode`."""
        deadline = self._clock() + timeout
        last: Generation | None = None
        attempt = 0
        while True:
            server_wait: float | None = None
            try:
                generation = cast(
                    Generation,
                    self._call("GET", f"/generations/{_segment(generation_id)}", request_id=request_id, max_retries=0),
                )
            except (RateLimitedError, ServerError, APIConnectionError) as error:
                server_wait = error.retry_after
            else:
                last = generation
                if generation["status"] in TERMINAL_STATUSES:
                    return generation
            remaining = deadline - self._clock()
            if server_wait is not None and server_wait > remaining:
                # The server said not to come back before the deadline: waiting would only end in a timeout.
                raise WaitTimeoutError(generation_id=generation_id, timeout=timeout, generation=last)
            if remaining <= 0:
                raise WaitTimeoutError(generation_id=generation_id, timeout=timeout, generation=last)
            if server_wait is not None:
                wait = server_wait
            else:
                wait = backoff_delay(attempt=attempt, base=poll_interval, cap=max_poll_interval)
            attempt += 1
            # One last poll lands on the deadline rather than after it.
            self._sleep(min(wait, remaining))

    def download(self, url: str) -> bytes:
        """The bytes behind a signed URL (`resultImageUrl`, `imageUrl`), fetched without the API key."""
        try:
            response = self._http.get(url)
        except httpx2.TransportError as error:
            raise APIConnectionError(code=CONNECTION_ERROR, message=f"download failed: {error}") from error
        if response.status_code >= 400:
            body = _json_or_none(response)
            raise error_from_answer(status=response.status_code, body=body, headers=response.headers)
        return response.content

    # --- products ----------------------------------------------------------------------------------------------

    def upsert_product(
        self,
        *,
        product: ProductUpsert,
        image_files: Sequence[Upload] = (),
        files: Mapping[str, Upload] | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Product:
        """`POST /products`: create the product, or change only the fields sent.

        `image_files` are appended to `images` as parts (when `images` is sent it replaces the stored list)."""
        body: dict[str, Any] = dict(product)
        parts = dict(_parts(files))
        if image_files:
            images: list[ProductImageInput] = list(product.get("images") or [])
            for index, upload in enumerate(image_files):
                key = _unused_name(parts, f"{GARMENT_PART_PREFIX}-{index}")
                parts[key] = file_part(upload=upload, name=key)
                images.append({"fileKey": key})
            body["images"] = images
        answer = self._json_or_multipart(
            path="/products", body=body, parts=parts, idempotency_key=idempotency_key, request_id=request_id
        )
        return cast(Product, answer)

    def list_products(
        self, *, limit: int | None = None, cursor: str | None = None, request_id: str | None = None
    ) -> ProductList:
        """`GET /products`: one page, newest first; pass the page's `nextCursor` for the next one."""
        params: dict[str, str] = {}
        if limit is not None:
            params["limit"] = str(limit)
        if cursor:
            params["cursor"] = cursor
        return cast(ProductList, self._call("GET", "/products", params=params, request_id=request_id))

    def iter_products(self, *, page_size: int = 50) -> Iterator[Product]:
        """Every listed product, newest first, following `nextCursor` page by page."""
        cursor: str | None = None
        while True:
            page = self.list_products(limit=page_size, cursor=cursor)
            yield from page["items"]
            if not page["hasMore"] or not page["nextCursor"]:
                return
            cursor = page["nextCursor"]

    def get_product(self, external_id: str, *, request_id: str | None = None) -> Product:
        """`GET /products/{externalId}` (one-shot `_anon_…` ids too)."""
        return cast(Product, self._call("GET", f"/products/{_segment(external_id)}", request_id=request_id))

    def get_product_stats(
        self,
        external_id: str,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        request_id: str | None = None,
    ) -> ProductStats:
        """`GET /products/{externalId}/stats`, optionally between two ISO 8601 dates (both inclusive)."""
        params: dict[str, str] = {}
        if date_from is not None:
            params["from"] = date_from
        if date_to is not None:
            params["to"] = date_to
        answer = self._call("GET", f"/products/{_segment(external_id)}/stats", params=params, request_id=request_id)
        return cast(ProductStats, answer)

    def delete_product(self, external_id: str, *, request_id: str | None = None) -> None:
        """`DELETE /products/{externalId}`. Not retried on 5xx: a replay after a lost 204 would answer 404."""
        self._call("DELETE", f"/products/{_segment(external_id)}", request_id=request_id)

    # --- plumbing ----------------------------------------------------------------------------------------------

    def _try_on_call(
        self,
        *,
        path: str,
        body: TryOnRequest,
        person_photo: Upload | None,
        garment_photos: Sequence[Upload],
        files: Mapping[str, Upload] | None,
        idempotency_key: str | None,
        request_id: str | None,
    ) -> Any:
        payload: dict[str, Any] = dict(body)
        parts = dict(_parts(files))
        if person_photo is not None:
            if "customer" in body:
                raise ValueError("pass either customer or person_photo, not both")
            key = _unused_name(parts, PERSON_PART)
            parts[key] = file_part(upload=person_photo, name=key)
            payload["customer"] = {"fileKey": key}
        if garment_photos:
            item: dict[str, Any] = dict(body["product"])
            images = list(item.get("images") or [])
            for index, upload in enumerate(garment_photos):
                key = _unused_name(parts, f"{GARMENT_PART_PREFIX}-{index}")
                parts[key] = file_part(upload=upload, name=key)
                images.append({"fileKey": key})
            item["images"] = images
            payload["product"] = item
        return self._json_or_multipart(
            path=path, body=payload, parts=parts, idempotency_key=idempotency_key, request_id=request_id
        )

    def _json_or_multipart(
        self,
        *,
        path: str,
        body: Mapping[str, Any],
        parts: Mapping[str, FilePart],
        idempotency_key: str | None,
        request_id: str | None,
    ) -> Any:
        if not parts:
            return self._call("POST", path, json_body=body, idempotency_key=idempotency_key, request_id=request_id)
        # Multipart: the JSON body travels whole in the `data` field; each `fileKey` names one of the parts.
        return self._call(
            "POST",
            path,
            form={"data": json.dumps(body)},
            files=parts,
            idempotency_key=idempotency_key,
            request_id=request_id,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, FilePart] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
        replay_safe: bool | None = None,
        max_retries: int | None = None,
    ) -> Any:
        """One operation: the parsed JSON answer (None for 204), retried as the module docstring says."""
        headers = {
            "x-api-key": self._api_key,
            "Accept": "application/json",
            "User-Agent": f"tryon-client-python/{__version__}",
        }
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        if replay_safe is None:
            replay_safe = method == "GET" or idempotency_key is not None
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    f"{self.base_url}{path}",
                    headers=headers,
                    json=json_body,
                    data=form,
                    files=files,
                    params=params,
                )
            except httpx2.TransportError as transport_error:
                # The method only: paths carry customer and product ids, and error texts end up in logs.
                error: TryOnError = APIConnectionError(
                    code=CONNECTION_ERROR, message=f"{method} request failed: {type(transport_error).__name__}"
                )
                if not replay_safe or attempt >= retries:
                    raise error from transport_error
                self._sleep(backoff_delay(attempt=attempt, base=self.retry_backoff, cap=self.max_retry_wait))
                attempt += 1
                continue
            if response.status_code < 400:
                return _json_or_none(response)
            body = _json_or_none(response)
            error = error_from_answer(status=response.status_code, body=body, headers=response.headers)
            wait = self._retry_wait(error=error, attempt=attempt, retries=retries, replay_safe=replay_safe)
            if wait is None:
                raise error
            self._sleep(wait)
            attempt += 1

    def _retry_wait(self, *, error: TryOnError, attempt: int, retries: int, replay_safe: bool) -> float | None:
        """How long to wait before sending the same request again, or None to raise `error` now."""
        if attempt >= retries:
            return None
        if isinstance(error, RateLimitedError | IdempotencyKeyInUseError):
            wait = error.retry_after
            if wait is None:
                wait = backoff_delay(attempt=attempt, base=self.retry_backoff, cap=self.max_retry_wait)
            return wait if wait <= self.max_retry_wait else None
        if isinstance(error, ServerError) and replay_safe:
            backoff = backoff_delay(attempt=attempt, base=self.retry_backoff, cap=self.max_retry_wait)
            wait = max(error.retry_after or 0.0, backoff)
            return wait if wait <= self.max_retry_wait else None
        return None


def _try_on_body(
    *,
    product: ProductItem,
    customer: CustomerImage | None,
    customer_id: str | None,
    retention_days: RetentionDays | None,
    use_watermark: bool | None,
    webhook_url: str | None,
    options: EngineOptions | None,
) -> TryOnRequest:
    body: TryOnRequest = {"product": product}
    if customer is not None:
        body["customer"] = customer
    if customer_id is not None:
        body["customerId"] = customer_id
    if retention_days is not None:
        body["retentionDays"] = retention_days
    if use_watermark is not None:
        body["useWatermark"] = use_watermark
    if webhook_url is not None:
        body["webhookUrl"] = webhook_url
    if options is not None:
        body["options"] = options
    return body


def _parts(files: Mapping[str, Upload] | None) -> dict[str, FilePart]:
    return {key: file_part(upload=upload, name=key) for key, upload in (files or {}).items()}


def _unused_name(parts: Mapping[str, FilePart], wanted: str) -> str:
    if wanted in parts:
        raise ValueError(f"the part name {wanted!r} is used by the photo helpers; name your own part otherwise")
    return wanted


def _segment(value: str) -> str:
    # One path segment: '/' and every reserved character percent-encoded (a customer id may contain '/').
    return urllib.parse.quote(value, safe="")


def _json_or_none(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
