"""One access-log line per request: method, path with its ids redacted, status, milliseconds; the request id comes
from the log format. Paths carry generation, image, product and customer ids, so the path logged is the route:
every value the URL resolver captured becomes `{name}`, and a path no route matched keeps only its leading
route-like words. The query string is never logged."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("tryon.access")

# What an unmatched path may show: lowercase route words (no digits' runs, no underscores, no dots beyond a
# version), at most three of them; anything else could be an id.
_ROUTE_WORD = re.compile(r"^[a-z][a-z-]{0,30}$|^v[0-9]{1,2}$")
_UNMATCHED_WORDS = 3


def path_redact(*, path: str, captured: dict[str, object] | None) -> str:
    """`path` with each segment the resolver captured (`captured`: its kwargs) replaced by `{name}`; with no
    route (None), the leading route words and `*` for the rest."""
    segments = path.split("/")
    if captured is not None:
        names = {str(value): name for name, value in captured.items()}
        return "/".join("{" + names[segment] + "}" if segment in names else segment for segment in segments)
    kept: list[str] = []
    for index, segment in enumerate(segments):
        if index == 0 and segment == "":
            kept.append("")
        elif len(kept) <= _UNMATCHED_WORDS and _ROUTE_WORD.match(segment):
            kept.append(segment)
        else:
            kept.append("*" if segment else "")
            kept.extend("*" if rest else "" for rest in segments[index + 1 :])
            break
    return "/".join(kept)


class RequestPathRedactFilter(logging.Filter):
    """On `django.request`: Django's own error lines (`Internal Server Error: <path>`, `Service Unavailable: …`)
    name the raw path, which can carry a customer id; they name the route instead, as the access log does."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        captured = dict(match.kwargs) if match is not None else None
        if isinstance(record.args, tuple):
            record.args = tuple(
                path_redact(path=arg, captured=captured) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


class AccessLogMiddleware:
    """Sits inside RequestIdMiddleware (the request id is bound) and outside the error-shape middleware (the
    status logged is the one the client gets)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.enabled = settings.TRYON_ACCESS_LOG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.enabled:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        match = getattr(request, "resolver_match", None)
        captured = dict(match.kwargs) if match is not None else None
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            path_redact(path=request.path, captured=captured),
            response.status_code,
            elapsed_ms,
        )
        return response
