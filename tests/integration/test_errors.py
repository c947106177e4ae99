"""Failures become JSON answers with the request id, one log line each, within the configured timeout."""

import json
import socket
import time
from pathlib import Path

import pytest

from local_gateway.model import MethodRequest
from proxy.response import LAMBDA_RESPONSE_LIMIT_BYTES
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureProxy, invoke_handler
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer, read_request
from tests.support.logs import LogLines
from tests.support.processes import fresh_interpreter

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _error(response_body: bytes) -> dict[str, str]:
    document: dict[str, str] = json.loads(response_body)
    assert set(document) == {"message", "requestId"}
    return document


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_backend_is_a_502(chain: BothEngines, configure_proxy: ConfigureProxy, proxy_logs: LogLines) -> None:
    configure_proxy(f"http://127.0.0.1:{_closed_port()}")

    response = chain.handle(MethodRequest("GET", "/x"))

    assert response.status == 502
    assert _error(response.body)["requestId"] == response.request_id
    log_lines = proxy_logs.records()
    assert [line["failure"] for line in log_lines] == ["backend_unreachable"]
    assert log_lines[0]["correlation_id"] == response.request_id


@pytest.mark.parametrize("slow", ["headers", "body"])
def test_a_slow_backend_is_a_504_within_the_timeout(
    chain: BothEngines, proxy_to: RecordingBackend, configure_proxy: ConfigureProxy, slow: str
) -> None:
    configure_proxy(proxy_to.url, backend_timeout_seconds="0.5")
    proxy_to.responder = lambda _: (
        Reply(200, [], b"late", delay_before_headers=3)
        if slow == "headers"
        else Reply(200, [], b"x" * 30, body_trickle_seconds=3)
    )

    started = time.monotonic()
    response = chain.handle(MethodRequest("GET", "/slow"))
    elapsed = time.monotonic() - started

    assert response.status == 504
    assert "0.5 s" in _error(response.body)["message"]
    assert elapsed < 1.0


def test_the_next_request_after_a_timeout_uses_a_clean_connection(
    chain: BothEngines, proxy_to: RecordingBackend, configure_proxy: ConfigureProxy
) -> None:
    configure_proxy(proxy_to.url, backend_timeout_seconds="0.3")
    proxy_to.responder = lambda _: Reply(200, [], b"y" * 20, body_trickle_seconds=2)
    assert chain.handle(MethodRequest("GET", "/half")).status == 504

    proxy_to.responder = lambda request: Reply(200, [("Content-Type", "text/plain")], request.target.encode())
    response = chain.handle(MethodRequest("GET", "/after"))

    assert (response.status, response.body) == (200, b"/after")


def test_a_response_over_the_lambda_limit_is_a_502_that_says_so(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "application/octet-stream")], b"\x00" * 5_000_000)

    response = chain.handle(MethodRequest("GET", "/big"))

    assert response.status == 502
    assert f"{LAMBDA_RESPONSE_LIMIT_BYTES:,} bytes" in _error(response.body)["message"]


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: 7000000\r\n", b"Connection: close\r\n"],  # declared, or read until the backend closes
    ids=["declared", "until-close"],
)
def test_a_backend_body_over_the_lambda_limit_is_refused_while_it_is_read(
    chain: BothEngines, configure_proxy: ConfigureProxy, framing: bytes
) -> None:
    def oversized(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing + b"\r\n")
        connection.sendall(b"\x00" * 7_000_000)

    with FaultServer() as server:
        server.script = oversized
        configure_proxy(server.url, backend_timeout_seconds="3")

        response = chain.handle(MethodRequest("GET", "/huge"))

    assert response.status == 502
    assert f"larger than the {LAMBDA_RESPONSE_LIMIT_BYTES:,} bytes" in _error(response.body)["message"]


@pytest.mark.parametrize("integration_mode", ["PROXY"], indirect=True)  # only AWS_PROXY returns binary bodies
def test_the_largest_binary_response_that_fits_gets_through(chain: BothEngines, proxy_to: RecordingBackend) -> None:
    body = bytes(range(256)) * (4_500_000 // 256)
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "application/octet-stream")], body)

    response = chain.handle(MethodRequest("GET", "/big-but-fits", headers=[("Accept", "*/*")]))

    assert (response.status, response.body) == (200, body)


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "GET /",
        {},
        {"httpMethod": "GET"},
        {"httpMethod": "G ET", "path": "/"},
        {"httpMethod": "GET", "path": "no-slash"},
        {"httpMethod": "GET", "path": "/", "headers": ["a"]},
        {"httpMethod": "GET", "path": "/", "headers": {"X-A": 1}},
        {"httpMethod": "GET", "path": "/", "headers": {"X-A": "a\r\nInjected: 1"}},
        {"httpMethod": "GET", "path": "/", "headers": {"Bad Name": "x"}},
        {"httpMethod": "POST", "path": "/", "body": "%%%not base64", "isBase64Encoded": True},
        {"httpMethod": "POST", "path": "/", "body": 12},
        {"httpMethod": "GET", "path": "/", "requestContext": "nope"},
        {"httpMethod": "GET", "path": "/", "multiValueQueryStringParameters": {"a": "not-a-list"}},
        # Only a direct invoke can send these; they would become X-Request-Id and X-Forwarded-For.
        {"httpMethod": "GET", "path": "/", "requestContext": {"requestId": "r-1\r\nX-Injected: 1"}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"requestId": "r-\u20ac"}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"requestId": "r-\udc80"}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"identity": {"sourceIp": "203.0.113.9\n"}}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"identity": {"sourceIp": "\u0100.0.0.1"}}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"identity": {"sourceIp": "\ud800"}}},
    ],
)
def test_a_malformed_event_is_a_400_json_answer(
    proxy_to: RecordingBackend, proxy_logs: LogLines, event: object
) -> None:
    response = invoke_handler(event)

    assert response["statusCode"] == 400
    assert response["headers"]["Content-Type"] == "application/json"
    assert _error(response["body"].encode())["requestId"]
    assert proxy_to.requests == []
    assert [line["level"] for line in proxy_logs.records()] == ["WARNING"]  # an explained refusal, no traceback


@pytest.mark.parametrize(
    ("headers", "hint"), [({"Content-Type": "text/plain"}, False), ({"X-Other": "1"}, True), (None, True)]
)
def test_a_body_that_is_not_base64_says_to_send_a_content_type_when_there_was_none(
    proxy_to: RecordingBackend, headers: dict[str, str] | None, hint: bool
) -> None:
    """Non-ASCII or non-base64 text marked base64 is a 400, never a 500; without a Content-Type the likely cause is
    that API Gateway did not convert the body (docs/api-gateway-assumptions.md, A06), and the message says what to
    do."""
    event = {"httpMethod": "POST", "path": "/", "headers": headers, "body": "café", "isBase64Encoded": True}

    response = invoke_handler(event)

    message = _error(response["body"].encode())["message"]
    assert response["statusCode"] == 400
    assert message.startswith("body is marked isBase64Encoded but is not valid base64")
    assert message.endswith("; send a Content-Type header") is hint
    assert proxy_to.requests == []


def test_a_bad_setting_fails_the_cold_start_naming_the_variable() -> None:
    result = fresh_interpreter(
        "import proxy.handler",
        cwd=PROJECT_ROOT / "proxy_fn",
        env={"BACKEND_URL": "ftp://10.0.0.1", "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode != 0
    assert "BACKEND_URL must start with http:// or https://" in result.stderr


@pytest.mark.parametrize(
    "event",
    [
        {"httpMethod": "GET", "path": "/\udcff"},
        {"httpMethod": "GET", "path": "/", "headers": {"X-A": "\ud800"}},
        {"httpMethod": "GET", "path": "/", "queryStringParameters": {"q": "\udc80"}},
    ],
)
def test_text_that_was_never_utf8_is_a_400_that_says_so(proxy_to: RecordingBackend, event: object) -> None:
    response = invoke_handler(event)

    assert response["statusCode"] == 400
    assert "is not valid UTF-8" in _error(response["body"].encode())["message"]
    assert proxy_to.requests == []
