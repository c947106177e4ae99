"""What the client gets back: any status, the backend's headers, text and binary bodies (template.yaml's VTL)."""

import base64
import gzip
import json

import pytest

from local_gateway.integration import RestApiIntegration
from local_gateway.model import MethodRequest
from local_gateway.sam_template import ProxyIntegration
from tests.integration.test_request_fidelity import ALL_BYTES
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import STAGE, ConfigureProxy, invoke_handler
from tests.support.engines import BothEngines
from tests.support.logs import LogLines


@pytest.mark.parametrize(
    "status", [200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 409, 418, 422, 429, 500, 503]
)
def test_any_backend_status_reaches_the_client(chain: BothEngines, proxy_to: RecordingBackend, status: int) -> None:
    proxy_to.responder = lambda _: Reply(
        status, [("Content-Type", "text/plain")], b"" if status in (204, 304) else b"x"
    )

    response = chain.handle(MethodRequest("GET", "/status"))

    assert response.status == status


def test_response_headers_reach_the_client(chain: BothEngines, proxy_to: RecordingBackend) -> None:
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


def test_redirects_are_returned_to_the_client_not_followed(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    proxy_to.responder = lambda _: Reply(302, [("Location", "http://127.0.0.1:1/elsewhere")], b"")

    response = chain.handle(MethodRequest("GET", "/old"))

    assert response.status == 302
    assert response.header("Location") == "http://127.0.0.1:1/elsewhere"
    assert len(proxy_to.requests) == 1


def test_several_cookies_all_reach_the_client_in_proxy_mode_and_the_first_under_mapping_templates(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str, proxy_logs: LogLines
) -> None:
    """responseOverride holds one value per header name; AWS_PROXY's multiValueHeaders carries them all."""
    cookies = [("Set-Cookie", "session=abc; Path=/; HttpOnly; Secure"), ("Set-Cookie", "theme=dark; Path=/")]
    proxy_to.responder = lambda _: Reply(200, cookies, b"ok")

    response = chain.handle(MethodRequest("GET", "/login"))

    received = [value for name, value in response.headers if name.lower() == "set-cookie"]
    if integration_mode == "VTL":
        assert received == [cookies[0][1]]
        dropped = [line for line in proxy_logs.records() if "dropped_set_cookie" in line]
        assert [(line["dropped_set_cookie"], line["cookie_names"]) for line in dropped] == [(1, ["theme"])]
        assert "dark" not in proxy_logs.text()
    else:
        assert received == [value for _, value in cookies]


@pytest.mark.parametrize("integration_mode", ["VTL"], indirect=True)  # the one mode that drops cookies
def test_a_dropped_cookie_without_a_name_is_logged_without_its_value(
    chain: BothEngines, proxy_to: RecordingBackend, proxy_logs: LogLines
) -> None:
    """A cookie without '=' is all value (RFC 6265bis 5.6): its name is empty, and the value stays out of the log."""
    cookies = [("Set-Cookie", "a=1"), ("Set-Cookie", "s3cr3t-name-less; Path=/"), ("Set-Cookie", "theme=dark")]
    proxy_to.responder = lambda _: Reply(200, cookies, b"ok")

    chain.handle(MethodRequest("GET", "/login"))

    dropped = [line for line in proxy_logs.records() if "dropped_set_cookie" in line]
    assert [line["cookie_names"] for line in dropped] == [["", "theme"]]
    assert "s3cr3t" not in proxy_logs.text()


TEXT_BODIES = [
    ("text/plain; charset=utf-8", "héllo wörld € 😀 'quotes' \"doubles\" \\ \n".encode()),
    ("application/json", b'{"a": "it\'s", "b": [1, 2.5, null], "c": "\\u00e9"}'),
    ("text/html", b"<!doctype html><p>caf\xc3\xa9</p>"),
    ("application/octet-stream", b"utf-8 text sent as octet-stream \xe2\x82\xac"),
    ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ("application/json", b""),
]
BINARY_BODIES = [
    ("application/octet-stream", ALL_BYTES),
    ("image/png", b"\x89PNG\r\n\x1a\n" + ALL_BYTES),
    ("text/plain", b"\xff\xfe not utf-8 \x80"),
]


@pytest.mark.parametrize(("content_type", "body"), TEXT_BODIES)
def test_utf8_bodies_reach_the_client_byte_for_byte_whatever_their_type(
    chain: BothEngines, proxy_to: RecordingBackend, content_type: str, body: bytes
) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", content_type)], body)

    response = chain.handle(MethodRequest("GET", "/download", headers=[("Accept", "text/html")]))

    assert response.body == body
    assert response.header("Content-Type") == content_type


@pytest.mark.parametrize(("content_type", "body"), BINARY_BODIES)
def test_bodies_that_are_not_utf8_are_bytes_in_proxy_mode_and_an_explained_502_under_mapping_templates(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str, content_type: str, body: bytes
) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", content_type)], body)

    response = chain.handle(MethodRequest("GET", "/download", headers=[("Accept", "*/*")]))

    if integration_mode == "VTL":
        assert response.status == 502
        error = json.loads(response.body)
        assert error["requestId"] == response.request_id
        assert "not UTF-8 text" in error["message"]
        assert "IntegrationMode=PROXY" in error["message"]
    else:
        assert (response.status, response.body, response.header("Content-Type")) == (200, body, content_type)


def test_a_proxy_mode_binary_answer_is_base64_text_unless_the_first_accept_type_is_binary(
    api_definitions: dict[str, ProxyIntegration], proxy_to: RecordingBackend, configure_proxy: ConfigureProxy
) -> None:
    """ "API Gateway only honors the first Accept media type"; with binaryMediaTypes */* any type matches."""
    configure_proxy(proxy_to.url, integration_mode="PROXY")
    chain = RestApiIntegration(api_definitions["PROXY"], invoke_handler, stage=STAGE)
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n\xff")

    without_accept = chain.handle(MethodRequest("GET", "/img"))
    with_accept = chain.handle(MethodRequest("GET", "/img", headers=[("Accept", "image/webp,*/*;q=0.8")]))

    assert base64.b64decode(without_accept.body) == b"\x89PNG\r\n\x1a\n\xff"
    assert with_accept.body == b"\x89PNG\r\n\x1a\n\xff"


def test_compressed_answers_pass_through_in_proxy_mode_and_are_not_asked_for_under_mapping_templates(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str
) -> None:
    """Compressed bytes are not text: under mapping templates the backend is asked for identity (API Gateway can
    compress the answer itself with MinimumCompressionSize); a backend that compresses anyway gets the 502."""
    compressed = gzip.compress(b'{"big": "' + b"x" * 10_000 + b'"}')
    proxy_to.responder = lambda _: Reply(
        200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], compressed
    )

    response = chain.handle(MethodRequest("GET", "/gz", headers=[("Accept-Encoding", "gzip"), ("Accept", "*/*")]))

    if integration_mode == "VTL":
        assert proxy_to.last.headers_named("Accept-Encoding") == ["identity"]
        assert response.status == 502
    else:
        assert proxy_to.last.header("Accept-Encoding") == "gzip"
        assert (response.body, response.header("Content-Encoding")) == (compressed, "gzip")


def test_head_answers_with_headers_and_no_body(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "text/plain"), ("ETag", '"e1"')], b"x" * 100)

    response = chain.handle(MethodRequest("HEAD", "/doc"))

    assert (response.status, response.header("ETag"), response.body) == (200, '"e1"', b"")
