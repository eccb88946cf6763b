"""uvicorn's own answer to a request it cannot parse, in the API's error shape.

uvicorn refuses an unparseable request (an unknown method, a request line over the parser's limit, broken framing)
with a plain-text 400 before the application is called, so no middleware can reshape it. Both of its HTTP/1.1
protocol implementations send that answer from one method, `send_400_response`; it is replaced here with one that
writes the JSON error body (`MALFORMED_REQUEST`). Installed when the ASGI application is imported, so it holds for
every command that serves `tryon_project.asgi:application` with uvicorn, whatever its flags.
"""

from __future__ import annotations

import json
import logging
import uuid

from tryon_project.api.errors import ApiError, ErrorCode

logger = logging.getLogger("tryon.api")

_MESSAGE = "The request could not be parsed (HTTP framing, method or request line)."


def parse_error_body() -> bytes:
    return json.dumps(ApiError(ErrorCode.MALFORMED_REQUEST, _MESSAGE).body(), separators=(",", ":")).encode()


def _httptools_send_400_response(self, msg: str) -> None:
    body = parse_error_body()
    content = [b"HTTP/1.1 400 Bad Request\r\n"]
    for name, value in self.server_state.default_headers:
        content.extend([name, b": ", value, b"\r\n"])
    content.extend(
        [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"x-request-id: " + uuid.uuid4().hex.encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ]
    )
    self.transport.write(b"".join(content))
    self.transport.close()


def _h11_send_400_response(self, msg: str) -> None:
    import h11

    body = parse_error_body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"x-request-id", uuid.uuid4().hex.encode("ascii")),
        (b"connection", b"close"),
    ]
    self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
    self.transport.write(self.conn.send(h11.Data(data=body)))
    self.transport.write(self.conn.send(h11.EndOfMessage()))
    self.transport.close()


def install_json_parse_errors() -> list[str]:
    """Replace the plain-text 400 of every uvicorn HTTP/1.1 protocol that is importable; returns the ones patched.
    A uvicorn without the expected method is left alone and logged (the test suite fails on it)."""
    patched: list[str] = []
    targets = [
        ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol", _httptools_send_400_response),
        ("uvicorn.protocols.http.h11_impl", "H11Protocol", _h11_send_400_response),
    ]
    for module_name, class_name, replacement in targets:
        try:
            module = __import__(module_name, fromlist=[class_name])
        except ImportError:
            continue  # not served by uvicorn, or this implementation's parser is not installed
        protocol = getattr(module, class_name, None)
        if protocol is None or not callable(getattr(protocol, "send_400_response", None)):
            logger.warning("uvicorn's %s has no send_400_response: its parse errors stay plain text", class_name)
            continue
        protocol.send_400_response = replacement
        patched.append(class_name)
    return patched
