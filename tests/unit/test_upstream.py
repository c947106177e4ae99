"""How a client request becomes the backend request: target, query, forwarding headers."""

import pytest

from proxy.config import BackendTarget
from proxy.event import ClientRequest
from proxy.upstream import build_upstream_request

BACKEND = BackendTarget("http", "10.0.1.25", 8080, "/base")


def request(path: str = "/", query: list[tuple[str, str]] | None = None, **kwargs: object) -> ClientRequest:
    fields: dict[str, object] = {
        "method": "GET",
        "path": path,
        "query": query or [],
        "headers": [],
        "body": b"",
        "request_id": "req-1",
        "source_ip": "203.0.113.9",
    }
    fields.update(kwargs)
    return ClientRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", "/base/"),
        ("/a b", "/base/a%20b"),
        ("/a%20b", "/base/a%20b"),
        ("/q?x=1#frag", "/base/q%3Fx=1%23frag"),
        ("/caf\u00e9", "/base/caf%C3%A9"),
        ("/a\r\nHost: evil", "/base/a%0D%0AHost:%20evil"),
        ("//evil.example/x", "/base//evil.example/x"),
    ],
)
def test_the_path_is_made_safe_without_decoding_it(path: str, target: str) -> None:
    assert build_upstream_request(request(path), BACKEND).target == target


def test_query_values_are_encoded_so_the_backend_decodes_what_the_client_sent() -> None:
    upstream = build_upstream_request(request("/s", [("q", "a&b=c+d %"), ("q", "é")]), BACKEND)

    assert upstream.target == "/base/s?q=a%26b%3Dc%2Bd%20%25&q=%C3%A9"


def test_x_forwarded_for_always_ends_with_the_callers_address() -> None:
    def forwarded_for(chain: str | None) -> str:
        headers = [("X-Forwarded-For", chain)] if chain else []
        upstream = build_upstream_request(request(headers=headers), BACKEND)
        return dict(upstream.headers)["X-Forwarded-For"]

    assert forwarded_for(None) == "203.0.113.9"
    assert forwarded_for("198.51.100.1") == "198.51.100.1, 203.0.113.9"
    assert forwarded_for("198.51.100.1, 203.0.113.9") == "198.51.100.1, 203.0.113.9"


def test_utf8_header_values_are_sent_as_utf8_bytes() -> None:
    upstream = build_upstream_request(request(headers=[("X-Name", "José")]), BACKEND)

    wire_value = dict(upstream.headers)["X-Name"]
    assert wire_value.encode("latin-1") == "José".encode()
