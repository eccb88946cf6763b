"""An engine that hands the customer's photo back untouched: for the "mock" product title and for tests."""

from __future__ import annotations

import time

from engines.base import TryOnRequest, TryOnResult

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MockEngine:
    name = "mock"
    version = "1.0.0"

    def run(self, request: TryOnRequest) -> TryOnResult:
        started = time.perf_counter()
        # Person images arrive normalised (JPEG, or PNG where transparency was kept): the bytes say which.
        content_type = "image/png" if request.person_image.startswith(_PNG_SIGNATURE) else "image/jpeg"
        return TryOnResult(
            image=request.person_image,
            content_type=content_type,
            engine=self.name,
            engine_version=self.version,
            timings_ms={"total": round((time.perf_counter() - started) * 1000, 3)},
            # It hands the photo back, so it honours no per-call option: each one sent is reported as ignored.
            diagnostics={"ignored_options": sorted(request.options.requested)} if request.options.requested else {},
        )
