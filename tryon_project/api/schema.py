"""OpenAPI helpers: the one error body and its codes, the headers every operation shares, multipart bodies with
their file parts, and the hooks that finish the generated document (docs/api.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, OpenApiResponse

from tryon_project.api.errors import ErrorCode, GenerationErrorCode
from tryon_project.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from tryon_project.api.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER

_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# `errorCode` of a FAILED generation: its enum component is named after the catalogue (settings ENUM_NAME_OVERRIDES).
GENERATION_ERROR_CODE_NAMES = [code.name for code in GenerationErrorCode]

# Codes any operation can answer: a URL holding what no database text can store, a missing or bad key, the rate
# limit, a crash, a backing service down.
_EVERY_OPERATION = (
    ErrorCode.MALFORMED_REQUEST,
    ErrorCode.MISSING_API_KEY,
    ErrorCode.INVALID_API_KEY,
    ErrorCode.RATE_LIMITED,
    ErrorCode.INTERNAL_ERROR,
    ErrorCode.SERVICE_UNAVAILABLE,
)
# What `@idempotent` adds: a malformed key (VALIDATION_FAILED on the header), a key in flight, a key reused.
_IDEMPOTENT = (ErrorCode.VALIDATION_FAILED, ErrorCode.IDEMPOTENCY_KEY_IN_USE, ErrorCode.IDEMPOTENCY_KEY_REUSED)

_DETAIL_EXAMPLES = {
    ErrorCode.VALIDATION_FAILED: [{"path": "product.images.0.url", "message": "must be a valid http or https URL"}],
    ErrorCode.MULTIPART_FILE_NOT_FOUND: [{"path": "product.images.0.fileKey", "message": "no form part named 'tee'"}],
    ErrorCode.INVALID_IMAGE_INPUT: [{"path": "product.images.0", "message": "needs a url or a fileKey"}],
    ErrorCode.EXTERNAL_ID_REQUIRED: [{"path": "externalId", "message": "is required"}],
}

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"[ext] 1-{MAX_KEY_LENGTH} characters chosen by the client. A repeat with the same key and body replays "
        "the first answer (with `Idempotent-Replayed: true`) instead of acting twice; see docs/api.md."
    ),
)


def error_responses(*codes: ErrorCode, idempotent: bool = False) -> dict[int, OpenApiResponse]:
    """The error responses of an operation: `codes` are those its own work can answer, on top of what every
    operation can (`_EVERY_OPERATION`) and, for an `@idempotent` one, what the Idempotency-Key adds. Each status
    lists exactly its codes (an enum narrowing `ErrorCode`) and carries one example per code."""
    chosen = {*codes, *_EVERY_OPERATION, *(_IDEMPOTENT if idempotent else ())}
    by_status: dict[int, list[ErrorCode]] = {}
    for code in ErrorCode:  # catalogue order, so the document is stable
        if code in chosen:
            by_status.setdefault(code.http_status, []).append(code)
    return {status: _error_response(status=status, codes=members) for status, members in sorted(by_status.items())}


def _error_response(*, status: int, codes: list[ErrorCode]) -> OpenApiResponse:
    names = [code.name for code in codes]
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "enum": names},
                    "status": {"type": "integer", "enum": [status]},
                },
            },
        ]
    }
    examples = [
        OpenApiExample(
            code.name,
            value={
                "code": code.name,
                "message": code.cause,
                "status": status,
                **({"details": _DETAIL_EXAMPLES[code]} if code in _DETAIL_EXAMPLES else {}),
            },
            response_only=True,
            status_codes=[status],
        )
        for code in codes
    ]
    listed = ", ".join(f"`{name}`" for name in names)
    return OpenApiResponse(response=schema, description=f"Error body; `code` one of {listed}.", examples=examples)


def multipart_json_request(*, body_component: str, files: dict[str, str], example: dict) -> OpenApiRequest:
    """A multipart body (docs/api.md "Multipart"): the `data` part holds the JSON body (`body_component`, the same
    schema as the JSON request), and each other part carries the bytes a `fileKey` in it names. `files` declares
    the parts the examples use, as binary, so the docs page offers a file picker for each; any other part name
    works the same way. `example` prefills `data` with a body that names exactly those parts."""
    properties: dict = {
        "data": {
            # `type` beside the reference: the docs page then offers a JSON editor for the part, not a text line.
            "type": "object",
            "allOf": [{"$ref": f"#/components/schemas/{body_component}"}],
            "description": (
                "The JSON body (a part of type application/json, or a plain text field holding the JSON); every "
                "`fileKey` in it names another part carrying the bytes."
            ),
            "example": example,
        }
    }
    for name, description in files.items():
        properties[name] = {"type": "string", "format": "binary", "description": description}
    schema = {"type": "object", "required": ["data"], "properties": properties}
    return OpenApiRequest(schema, encoding={"data": {"contentType": "application/json"}})


def request_examples(*, json: dict[str, dict], multipart: dict[str, dict]) -> list[OpenApiExample]:
    """One request example per shape and media type. A multipart example's value is its `data` part; the file
    parts it names are the binary properties of the multipart schema (a JSON example cannot hold bytes)."""
    examples = [
        OpenApiExample(
            f"{shape} JSON",
            value=body,
            request_only=True,
            media_type="application/json",
            description="The URLs stand for your own photos: replace them before sending.",
        )
        for shape, body in json.items()
    ]
    examples += [
        OpenApiExample(
            f"{shape} multipart",
            value={"data": body},
            request_only=True,
            media_type="multipart/form-data",
            description="Attach a photo to each file part that a `fileKey` names.",
        )
        for shape, body in multipart.items()
    ]
    return examples


def strip_optional_trailing_slash(endpoints, **kwargs):
    """Routes accept an optional trailing slash; document the canonical form without it."""
    return [(path.rstrip("/") or "/", regex, method, callback) for path, regex, method, callback in endpoints]


def server_version() -> str:
    """The server's own version (pyproject.toml), which is what `info.version` states."""
    with _PYPROJECT.open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


# --- Postprocessing: what every operation shares ----------------------------------------------------------------

_HEADERS = {
    "X-Request-ID": {
        "description": "The request id: the client's `X-Request-ID` when it is 1-128 of `A-Za-z0-9._:-`, else "
        "generated. Quote it when reporting a problem; the server's logs carry it.",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed per minute for this account.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current minute.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Seconds until the current minute's window resets.",
        "schema": {"type": "integer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before sending the same request again.",
        "schema": {"type": "integer"},
    },
    REPLAYED_HEADER: {
        "description": "[ext] `true` when this answer is the replay of an earlier request with the same "
        "`Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

_REQUEST_ID_PARAMETER = {
    "in": "header",
    "name": "X-Request-ID",
    "required": False,
    "schema": {"type": "string"},
    "description": "Optional correlation id, echoed in the `X-Request-ID` response header when it is 1-128 of "
    "`A-Za-z0-9._:-` (otherwise the server generates one).",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def _error_components() -> dict[str, dict]:
    return {
        "ErrorCode": {
            "type": "string",
            "enum": [code.name for code in ErrorCode],
            "description": "\n".join(f"* `{code.name}` ({code.http_status}): {code.cause}" for code in ErrorCode),
        },
        "ErrorDetail": {
            "type": "object",
            "required": ["path", "message"],
            "properties": {
                "path": {"type": "string", "description": "The offending field, as the client sent it."},
                "message": {"type": "string"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"$ref": "#/components/schemas/ErrorCode"},
                "message": {"type": "string"},
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "details": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"}},
            },
        },
    }


def _operation_headers(*, operation: dict) -> None:
    authenticated = bool(operation.get("security"))
    idempotent = any(p.get("name") == IDEMPOTENCY_HEADER for p in operation.get("parameters", []))
    operation.setdefault("parameters", []).append(dict(_REQUEST_ID_PARAMETER))
    if "requestBody" in operation:
        # Every body this API takes is needed (a try-on, a product, an upload); the generator cannot tell from a
        # multipart schema written by hand.
        operation["requestBody"]["required"] = True
    for status_text, response in operation.get("responses", {}).items():
        status = int(status_text)
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _ref("X-Request-ID")
        # The limit is counted once the key is known: a 401 and a request refused before it has no figures.
        if authenticated and status != 401:
            for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                headers[name] = _ref(name)
        if status in (409, 429, 503):
            headers["Retry-After"] = _ref("Retry-After")
        if idempotent and status < 300:
            headers[REPLAYED_HEADER] = _ref(REPLAYED_HEADER)


def _required_retry_after(result: dict) -> None:
    """429 (the rate limit) and 409 (a key in flight) always say how long to wait; a 503 only sometimes."""
    for item in result["paths"].values():
        for operation in item.values():
            for status in ("409", "429"):
                response = operation.get("responses", {}).get(status)
                if response is not None:
                    response["headers"]["Retry-After"] = {**_HEADERS["Retry-After"], "required": True}


def finish_document(result, generator, request, public, **kwargs):
    """Postprocessing hook: the error components, the shared headers on every operation, and the server's version
    (the API revision it implements is in the description, set in settings)."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_error_components())
    components["schemas"] = dict(sorted(schemas.items()))
    components["headers"] = _HEADERS
    for item in result.get("paths", {}).values():
        for operation in item.values():
            _operation_headers(operation=operation)
    _required_retry_after(result)
    result["info"]["version"] = server_version()
    return result
