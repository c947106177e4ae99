"""What the STREAM tests share: the answers every path is checked with (a backend's reply, the prelude and body it
must become), the event, and the proxy's stream handler run in process as the runtime client would run it."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from local_gateway.lambda_context import lambda_context
from proxy import stream_handler
from proxy.errors import ProxyError
from proxy.stream_runtime import HTTP_INTEGRATION_RESPONSE, PRELUDE_DELIMITER
from tests.support.backend import Reply

REQUEST_ID = "5d4fb2a0-9a3c-4d6e-8b7f-0123456789ab"
BINARY = bytes(range(256)) * 64
TEXT = "id;name\n1;café\n2;naïve ✓\n".encode()

# (method, what the backend answers, the prelude the proxy sends, the body after it)
ANSWERS: list[Any] = [
    pytest.param(
        "GET",
        Reply(200, [("Content-Type", "text/csv; charset=utf-8")], TEXT),
        {"statusCode": 200, "headers": {"Content-Type": "text/csv; charset=utf-8"}},
        TEXT,
        id="text",
    ),
    pytest.param(
        "GET",
        Reply(200, [("Content-Type", "application/octet-stream")], BINARY),
        {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"}},
        BINARY,
        id="binary",
    ),
    pytest.param("GET", Reply(200, [], b""), {"statusCode": 200, "headers": {}}, b"", id="empty"),
    pytest.param("DELETE", Reply(204, [], b""), {"statusCode": 204, "headers": {}}, b"", id="204"),
    pytest.param(
        "HEAD",
        Reply(200, [("Content-Type", "application/pdf"), ("Content-Length", "1048576")], b""),
        {"statusCode": 200, "headers": {"Content-Type": "application/pdf"}},
        b"",
        id="HEAD",
    ),
    pytest.param(
        "GET",
        Reply(302, [("Location", "/in"), ("Set-Cookie", "session=abc; HttpOnly"), ("Set-Cookie", "theme=dark")], b""),
        {"statusCode": 302, "headers": {"Location": "/in"}, "cookies": ["session=abc; HttpOnly", "theme=dark"]},
        b"",
        id="two cookies",
    ),
]


def proxy_event(method: str = "GET", path: str = "/files/report.csv", request_id: str = REQUEST_ID) -> dict[str, Any]:
    """A REST proxy event as API Gateway hands it to the function."""
    return {
        "httpMethod": method,
        "path": path,
        "headers": {"Accept": "*/*"},
        "requestContext": {"requestId": request_id, "identity": {"sourceIp": "203.0.113.9"}},
        "body": None,
        "isBase64Encoded": False,
    }


@dataclass
class Streamed:
    """What the runtime client would send: the prelude, then each body chunk with when it was produced."""

    prelude: dict[str, Any]
    prelude_at: float
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    failure: ProxyError | None = None

    @property
    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)


def stream(request: dict[str, Any], timeout_ms: int = 300_000) -> Streamed:
    response = stream_handler.lambda_handler(request, lambda_context("proxy", timeout_ms=timeout_ms))
    assert response.content_type == HTTP_INTEGRATION_RESPONSE
    chunks = iter(response.chunks)
    first = next(chunks)
    metadata, delimiter, rest = first.partition(PRELUDE_DELIMITER)
    assert (delimiter, rest) == (PRELUDE_DELIMITER, b""), "the prelude is a chunk of its own"
    streamed = Streamed(json.loads(metadata), time.monotonic())
    try:
        for chunk in chunks:
            streamed.chunks.append((time.monotonic(), chunk))
    except ProxyError as error:
        streamed.failure = error
    return streamed
