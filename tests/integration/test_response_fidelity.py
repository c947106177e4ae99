"""What the client gets back: any status, the backend's headers, text and binary bodies (template.yaml's VTL)."""

import pytest

from local_gateway.integration import MethodRequest, RestApiIntegration
from tests.integration.test_request_fidelity import ALL_BYTES
from tests.support.backend import RecordingBackend, Reply


@pytest.mark.parametrize(
    "status", [200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 409, 418, 422, 429, 500, 503]
)
def test_any_backend_status_reaches_the_client(
    chain: RestApiIntegration, proxy_to: RecordingBackend, status: int
) -> None:
    proxy_to.responder = lambda _: Reply(
        status, [("Content-Type", "text/plain")], b"" if status in (204, 304) else b"x"
    )

    response = chain.handle(MethodRequest("GET", "/status"))

    assert response.status == status


def test_response_headers_reach_the_client(chain: RestApiIntegration, proxy_to: RecordingBackend) -> None:
    headers = [
        ("Content-Type", "application/problem+json"),
        ("Location", "/orders/43"),
        ("Cache-Control", "private, max-age=60"),
        ("ETag", '"v1-abc"'),
        ("Retry-After", "120"),
        ("X-Custom-Trace", 'it\'s "quoted"'),
    ]
    proxy_to.responder = lambda _: Reply(201, headers, b'{"id": 43}')

    response = chain.handle(MethodRequest("POST", "/orders", body=b"{}"))

    assert response.status == 201
    for name, value in headers:
        assert response.header(name) == value, name
    assert response.body == b'{"id": 43}'


def test_redirects_are_returned_to_the_client_not_followed(
    chain: RestApiIntegration, proxy_to: RecordingBackend
) -> None:
    proxy_to.responder = lambda _: Reply(302, [("Location", "http://127.0.0.1:1/elsewhere")], b"")

    response = chain.handle(MethodRequest("GET", "/old"))

    assert response.status == 302
    assert response.header("Location") == "http://127.0.0.1:1/elsewhere"
    assert len(proxy_to.requests) == 1


def test_only_the_first_of_several_cookies_survives_the_vtl_integration(
    chain: RestApiIntegration, proxy_to: RecordingBackend
) -> None:
    """responseOverride has no multi-value form and overriding a header twice is a 5XX on AWS (README)."""
    cookies = [("Set-Cookie", "session=abc; Path=/; HttpOnly; Secure"), ("Set-Cookie", "theme=dark; Path=/")]
    proxy_to.responder = lambda _: Reply(200, cookies, b"ok")

    response = chain.handle(MethodRequest("GET", "/login"))

    assert [value for name, value in response.headers if name.lower() == "set-cookie"] == [cookies[0][1]]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain; charset=utf-8", "héllo wörld € 😀 'quotes' \"doubles\" \\ \n".encode()),
        ("application/json", b'{"a": "it\'s", "b": [1, 2.5, null], "c": "\\u00e9"}'),
        ("text/html", b"<!doctype html><p>caf\xc3\xa9</p>"),
        ("application/octet-stream", ALL_BYTES),
        ("image/png", b"\x89PNG\r\n\x1a\n" + ALL_BYTES),
        ("text/plain", b"\xff\xfe not utf-8 \x80"),
        ("application/json", b""),
    ],
)
def test_bodies_reach_the_client_byte_for_byte(
    chain: RestApiIntegration, proxy_to: RecordingBackend, content_type: str, body: bytes
) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", content_type)], body)

    response = chain.handle(MethodRequest("GET", "/download", headers=[("Accept", "text/html")]))

    assert response.body == body
    assert response.header("Content-Type") == content_type


def test_gzip_bodies_pass_through_undecoded(chain: RestApiIntegration, proxy_to: RecordingBackend) -> None:
    import gzip

    compressed = gzip.compress(b'{"big": "' + b"x" * 10_000 + b'"}')
    proxy_to.responder = lambda _: Reply(
        200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], compressed
    )

    response = chain.handle(MethodRequest("GET", "/gz", headers=[("Accept-Encoding", "gzip")]))

    assert response.body == compressed
    assert response.header("Content-Encoding") == "gzip"
    assert proxy_to.last.header("Accept-Encoding") == "gzip"


def test_head_answers_with_headers_and_no_body(chain: RestApiIntegration, proxy_to: RecordingBackend) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "text/plain"), ("ETag", '"e1"')], b"x" * 100)

    response = chain.handle(MethodRequest("HEAD", "/doc"))

    assert (response.status, response.header("ETag"), response.body) == (200, '"e1"', b"")
