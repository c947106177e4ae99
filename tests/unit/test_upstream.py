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
        ("/a%zz/b%2F%2ex", "/base/a%25zz/b%2F%2ex"),
        ("/100%", "/base/100%25"),
        ("/a b%2Fc%", "/base/a%20b%2Fc%25"),
    ],
)
def test_the_path_is_made_safe_without_decoding_it(path: str, target: str) -> None:
    """Valid escapes pass as written; a '%' that starts none is encoded itself, never the escapes around it."""
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


def test_withheld_credentials_never_reach_the_backend_in_any_capitalisation() -> None:
    headers = [
        ("AUTHORIZATION", "Bearer t0ken"),
        ("X-Api-Key", "k3y"),
        ("X-Amz-Security-Token", "s"),
        ("Accept", "*/*"),
    ]
    withheld = frozenset({"authorization", "x-api-key", "x-amz-security-token"})

    sent = build_upstream_request(request(headers=headers), BACKEND, withheld=withheld).headers

    assert [name for name, _ in sent if name.lower() in withheld] == []
    assert ("Accept", "*/*") in sent


def test_mapping_templates_ask_the_backend_for_an_uncompressed_answer() -> None:
    headers = [("Accept-Encoding", "gzip, br")]

    as_text = build_upstream_request(request(headers=headers), BACKEND, text_only=True).headers
    as_proxy = build_upstream_request(request(headers=headers), BACKEND).headers

    assert [value for name, value in as_text if name == "Accept-Encoding"] == ["identity"]
    assert [value for name, value in as_proxy if name == "Accept-Encoding"] == ["gzip, br"]


def test_a_client_without_accept_encoding_is_sent_identity_and_one_with_it_keeps_it() -> None:
    """RFC 9110 12.5.3: no Accept-Encoding means any coding is acceptable; the client sent none it could decode."""
    without = build_upstream_request(request(), BACKEND).headers
    gzip = build_upstream_request(request(headers=[("Accept-Encoding", "gzip")]), BACKEND).headers

    assert [value for name, value in without if name.lower() == "accept-encoding"] == ["identity"]
    assert [value for name, value in gzip if name.lower() == "accept-encoding"] == ["gzip"]
