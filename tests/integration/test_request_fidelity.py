"""What the backend receives, byte for byte, when a client calls the API (template.yaml's VTL, real sockets)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from local_gateway.model import MethodRequest
from local_gateway.sam_template import load_proxy_integration
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureProxy, invoke_handler
from tests.support.engines import BothEngines

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PATHS = ["/", "/orders", "/orders/42/items/7/notes/2026/11"]

ALL_BYTES = bytes(range(256)) * 4
BODIES = {
    "json": (
        "application/json",
        json.dumps({"name": "O'Brien", "quote": '"hi"', "path": "a\\b", "é": "ü"}).encode(),
    ),
    "json-with-charset": ("application/json; charset=utf-8", b'{"it\'s": "fine"}'),
    "text": ("text/plain; charset=utf-8", "plain text with 'quotes', \"doubles\", \\ and ü € 😀\n".encode()),
    "form": ("application/x-www-form-urlencoded", b"a=1&b=it%27s+here&c=%E2%82%AC&d=x%3Dy"),
    "xml": ("application/xml", b"<?xml version=\"1.0\"?><order id='42'>&amp; caf\xc3\xa9</order>"),
    "binary": ("application/octet-stream", ALL_BYTES),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n" + ALL_BYTES),
    "empty": ("application/json", b""),
}
SPECIAL_VALUES = [
    "it's",
    'say "hi"',
    "back\\slash",
    "caf\u00e9 \u20ac \U0001f600",
    "a&b=c",
    "1+1=2",
    "100%",
    "%2F encoded",
    "</script>",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_and_path_depth_reaches_the_backend(
    chain: BothEngines, proxy_to: RecordingBackend, method: str, path: str
) -> None:
    response = chain.handle(MethodRequest(method, path))

    assert response.status == 200
    assert proxy_to.last.method == method
    assert proxy_to.last.target == path


@pytest.mark.parametrize("kind", BODIES)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_body_arrives_byte_for_byte(
    chain: BothEngines, proxy_to: RecordingBackend, kind: str, method: str
) -> None:
    content_type, body = BODIES[kind]

    chain.handle(MethodRequest(method, "/upload", headers=[("Content-Type", content_type)], body=body))

    assert proxy_to.last.body == body
    assert proxy_to.last.header("Content-Type") == content_type
    assert proxy_to.last.header("Content-Length") == str(len(body)) or (not body and method == "DELETE")


def test_a_request_without_content_type_uses_the_json_template(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    chain.handle(MethodRequest("POST", "/raw", body=b'{"a": 1}'))

    assert proxy_to.last.body == b'{"a": 1}'


def test_an_unlisted_content_type_is_refused_with_415_before_the_lambda_under_mapping_templates(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str
) -> None:
    """passthroughBehavior NEVER with a template per listed type; AWS_PROXY has no templates and passes any type."""
    response = chain.handle(MethodRequest("POST", "/x", headers=[("Content-Type", "audio/x-made-up")], body=b"x"))

    if integration_mode == "VTL":
        assert response.status == 415
        assert json.loads(response.body)["requestId"] == response.request_id
        assert "requestTemplates in template.yaml" in json.loads(response.body)["message"]
        assert response.header("X-Unsupported-Content-Type") == "audio/x-made-up"
        assert proxy_to.requests == []
    else:
        assert (response.status, proxy_to.last.body) == (200, b"x")
        assert proxy_to.last.header("Content-Type") == "audio/x-made-up"


@pytest.mark.parametrize("value", SPECIAL_VALUES)
def test_header_and_query_values_arrive_unchanged(chain: BothEngines, proxy_to: RecordingBackend, value: str) -> None:
    chain.handle(MethodRequest("GET", "/search", query=[("q", value), ("plain", "x")], headers=[("X-Note", value)]))

    assert proxy_to.last.header("X-Note") == value
    query = parse_qs(urlsplit(proxy_to.last.target).query, keep_blank_values=True)
    assert query == {"q": [value], "plain": ["x"]}


def test_header_names_that_are_java_map_methods_survive(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    chain.handle(MethodRequest("GET", "/", headers=[("keySet", "1"), ("get", "2"), ("isEmpty", "3")]))

    assert [proxy_to.last.header(name) for name in ("keySet", "get", "isEmpty")] == ["1", "2", "3"]


def test_a_repeated_query_key_or_header_keeps_every_value_only_in_proxy_mode(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str
) -> None:
    """Mapping templates see one value per name ($input.params()); AWS_PROXY's multi-value maps see them all."""
    chain.handle(
        MethodRequest("GET", "/list", query=[("tag", "a"), ("tag", "b")], headers=[("X-Tag", "1"), ("X-Tag", "2")])
    )

    if integration_mode == "VTL":  # which header value $input.params() keeps is not documented: both engines, first
        assert (proxy_to.last.target, proxy_to.last.headers_named("X-Tag")) == ("/list?tag=b", ["1"])
    else:
        assert (proxy_to.last.target, proxy_to.last.headers_named("X-Tag")) == ("/list?tag=a&tag=b", ["1", "2"])


def test_the_path_keeps_its_percent_encoding_and_unsafe_characters_are_encoded(
    chain: BothEngines, proxy_to: RecordingBackend
) -> None:
    chain.handle(MethodRequest("GET", "/files/a%2Fb/r%C3%A9sum%C3%A9 final.pdf"))

    assert proxy_to.last.target == "/files/a%2Fb/r%C3%A9sum%C3%A9%20final.pdf"


def test_forwarding_headers_are_set_by_the_proxy_and_not_by_the_client(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str
) -> None:
    spoofed = [
        ("Host", "api.example.com"),
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Request-Id", "forged"),
        ("Forwarded", "for=1.2.3.4"),
        ("Keep-Alive", "timeout=5"),
    ]
    response = chain.handle(MethodRequest("GET", "/who", headers=spoofed, source_ip="203.0.113.9"))

    received = proxy_to.last
    assert received.header("Host") == proxy_to.url.removeprefix("http://")
    # AWS_PROXY events carry X-Forwarded-For as API Gateway sets it (both engines: the caller's address);
    # mapping templates see the method request's header; either way the caller's address comes last.
    chain_seen = "203.0.113.9" if integration_mode == "PROXY" else "198.51.100.7, 203.0.113.9"
    assert received.header("X-Forwarded-For") == chain_seen
    assert received.header("X-Forwarded-Host") == "api.example.com"
    assert received.header("X-Forwarded-Proto") == "https"
    assert received.headers_named("X-Request-Id") == [response.request_id]
    for removed in ("Forwarded", "Keep-Alive"):
        assert received.header(removed) is None, removed


def test_hop_by_hop_headers_and_those_connection_names_never_reach_the_backend(proxy_to: RecordingBackend) -> None:
    """At the handler: API Gateway drops Connection, Transfer-Encoding and Upgrade before the function runs
    (LocalStack's AWS-recorded TestApiGatewayHeaderRemapping), so only a hand-made event can carry them."""
    headers = {
        "Connection": "keep-alive, X-Secret-Hop",
        "X-Secret-Hop": "must not pass",
        "Transfer-Encoding": "chunked",
        "Upgrade": "websocket",
        "TE": "trailers",
    }
    invoke_handler({"httpMethod": "GET", "path": "/who", "headers": headers})

    for removed in headers:
        assert proxy_to.last.header(removed) is None, removed


def test_the_backend_base_path_prefixes_every_request(
    chain: BothEngines, proxy_to: RecordingBackend, configure_proxy: ConfigureProxy
) -> None:
    configure_proxy(proxy_to.url + "/internal/api/")

    chain.handle(MethodRequest("GET", "/orders/1", query=[("x", "1")]))

    assert proxy_to.last.target == "/internal/api/orders/1?x=1"


@pytest.mark.parametrize("path", ["/@evil.example/x", "/a/http:%2F%2Fevil", "/%2e%2etc/x", "/a%2fb%5Cc/%7e"])
def test_no_path_can_change_the_backend_host(chain: BothEngines, proxy_to: RecordingBackend, path: str) -> None:
    response = chain.handle(MethodRequest("GET", path))

    assert response.status == 200
    assert proxy_to.last.target == path  # every escape as the client wrote it: nothing decoded or re-encoded
    assert proxy_to.last.header("Host") == proxy_to.url.removeprefix("http://")


def test_a_path_that_starts_with_two_slashes_stays_a_path_on_the_backend(proxy_to: RecordingBackend) -> None:
    """At the handler: what API Gateway makes of a leading // is not verified (LocalStack collapses it, with its
    own "TODO: AWS validate"), so the event is given directly; the proxy must never read it as a host."""
    response = invoke_handler(
        {"httpMethod": "GET", "path": "//evil.example/steal", "requestContext": {"requestId": "r-1"}}
    )

    assert response["statusCode"] == 200
    assert proxy_to.last.target == "//evil.example/steal"
    assert proxy_to.last.header("Host") == proxy_to.url.removeprefix("http://")


def test_warm_invocations_reuse_one_keep_alive_connection(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    for number in range(25):
        chain.handle(MethodRequest("POST", f"/n/{number}", body=b"x" * number))

    assert len(proxy_to.requests) == 25
    assert proxy_to.connections_opened == 1


def test_the_caller_identity_comes_from_the_authorizer_and_cannot_be_forged(
    chain: BothEngines, proxy_to: RecordingBackend
) -> None:
    forged = MethodRequest("GET", "/me", headers=[("X-Authenticated-Client", "admin")])

    chain.handle(forged)
    assert proxy_to.last.headers_named("X-Authenticated-Client") == []

    chain.handle(forged, authorizer={"principalId": "acme", "client": "acme"})
    assert proxy_to.last.headers_named("X-Authenticated-Client") == ["acme"]


# Types real APIs send that a narrower list once refused with 415.
COMMON_TYPES = [
    "application/x-protobuf",
    "application/vnd.github+json",
    "application/cbor",
    "image/avif",
    "video/mp4",
    "text/markdown",
    "application/ld+json",
    "application/x-amz-json-1.1",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
LISTED_TYPES = sorted(load_proxy_integration(parameters={"IntegrationMode": "VTL"}).request_templates)


def test_the_common_types_are_in_the_one_list() -> None:
    assert set(COMMON_TYPES) <= set(LISTED_TYPES)


@pytest.mark.parametrize("integration_mode", ["VTL"], indirect=True)  # AWS_PROXY takes any type
@pytest.mark.parametrize("content_type", LISTED_TYPES)
def test_every_listed_content_type_reaches_the_backend_byte_for_byte(
    chain: BothEngines, proxy_to: RecordingBackend, content_type: str
) -> None:
    body = b"\x00\xffbytes of " + content_type.encode()
    proxy_to.responder = lambda _: Reply(201, [("Content-Type", "text/plain")], b"stored")

    response = chain.handle(MethodRequest("POST", "/in", headers=[("Content-Type", content_type)], body=body))

    assert (response.status, response.body) == (201, b"stored")
    assert (proxy_to.last.header("Content-Type"), proxy_to.last.body) == (content_type, body)
