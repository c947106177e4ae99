"""The answers every STREAM path is checked with: a backend's reply and the prelude and body it must become."""

from typing import Any

import pytest

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


def proxy_event(method: str = "GET", path: str = "/files/report.csv") -> dict[str, Any]:
    """A REST proxy event as API Gateway hands it to the function, with REQUEST_ID."""
    return {
        "httpMethod": method,
        "path": path,
        "headers": {"Accept": "*/*"},
        "requestContext": {"requestId": REQUEST_ID, "identity": {"sourceIp": "203.0.113.9"}},
        "body": None,
        "isBase64Encoded": False,
    }
