"""An engine for worker integration tests: announces that it started, sleeps, then returns the person photo.
Selected through TRYON_EXTRA_ENGINES in the worker process's environment."""

from __future__ import annotations

import os
import time
from pathlib import Path

from engines.base import TryOnRequest, TryOnResult


class SlowEngine:
    name = "slow"
    version = "1"

    def run(self, request: TryOnRequest) -> TryOnResult:
        marker = os.environ.get("SLOW_ENGINE_MARKER")
        if marker:
            Path(marker).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("SLOW_ENGINE_SECONDS", "0")))
        return TryOnResult(image=request.person_image, content_type="image/jpeg", engine="slow", engine_version="1")
