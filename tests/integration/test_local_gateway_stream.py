"""`make local --mode STREAM` over real sockets: the client gets the backend's answer chunked, as it comes.

The gateway runs template.yaml's STREAM integration (its authorizer, its timeout) with proxy.stream_handler in a
thread of its own, in front of real backends on 127.0.0.1; the last test runs `make local` itself for 150 MB. No
second engine here: LocalStack's API Gateway does not stream.
"""

import hashlib
import io
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from urllib3.exceptions import ProtocolError

from local_gateway.lambda_runtime import stream_invoker
from local_gateway.sam_template import load_gateway_settings, load_proxy_integration
from local_gateway.server import build_gateway
from proxy import stream_handler
from tests.integration.test_make_local import make_local
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureStream
from tests.support.faults import FaultServer
from tests.support.local_api import HTTP, LocalApi, served, token_authorizer
from tests.support.memory import peak_rss_bytes
from tests.support.streaming_backends import generated_bodies, generated_chunks, serving


@pytest.fixture
def streaming_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalApi]:
    """The gateway with template.yaml's STREAM integration and TOKEN authorizer, on a free port; the stream handler
    goes to whichever backend the test's other fixtures point it at."""
    api = load_proxy_integration(parameters={"IntegrationMode": "STREAM"})
    access_log = io.StringIO()
    gateway = build_gateway(
        load_gateway_settings(parameters={"IntegrationMode": "STREAM"}),
        api,
        stream_invoker(stream_handler.lambda_handler, "proxy", api.timeout_ms),
        token_authorizer(monkeypatch),
        access_log=access_log,
    )
    with served(gateway, access_log, "STREAM") as local_api:
        yield local_api


def test_the_client_gets_status_headers_every_cookie_and_the_body_chunked(
    stream_backend: RecordingBackend, streaming_api: LocalApi
) -> None:
    api = streaming_api
    body = bytes(range(256)) * 1024
    stream_backend.responder = lambda _: Reply(
        201,
        [("Content-Type", "application/octet-stream"), ("Set-Cookie", "a=1; HttpOnly"), ("Set-Cookie", "b=2")],
        body,
    )

    response = api.request("POST", "/files", body=b"upload", headers={"Content-Type": "text/plain"})

    assert response.status == 201
    assert response.data == body
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.headers.getlist("Set-Cookie") == ["a=1; HttpOnly", "b=2"]
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert (
        stream_backend.last.method,
        stream_backend.last.body,
        stream_backend.last.header("X-Authenticated-Client"),
    ) == (
        "POST",
        b"upload",
        "acme",
    )
    [line] = api.access_lines()
    assert (line["status"], line["responseLength"]) == (201, len(body))


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("DELETE", 204)])
def test_answers_without_a_body_have_no_chunked_body(
    stream_backend: RecordingBackend, streaming_api: LocalApi, method: str, status: int
) -> None:
    api = streaming_api
    stream_backend.responder = lambda _: Reply(status, [("Content-Type", "text/plain")], b"")

    response = api.request(method, "/thing")

    assert (response.status, response.data) == (status, b"")
    assert "Transfer-Encoding" not in response.headers


def test_each_chunk_reaches_the_client_as_the_backend_sends_it(
    stream_faults: FaultServer, streaming_api: LocalApi
) -> None:
    def events(connection: socket.socket) -> None:
        for number in range(3):
            piece = f"data: {number}\n\n".encode()
            connection.sendall(b"%x\r\n%b\r\n" % (len(piece), piece))
            time.sleep(0.4)
        connection.sendall(b"0\r\n\r\n")

    stream_faults.script = serving(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n", events
    )
    api = streaming_api

    response = api.open("/events")
    arrivals = [(time.monotonic(), chunk) for chunk in response.read_chunked()]

    assert response.headers["Content-Type"] == "text/event-stream"
    assert b"".join(chunk for _, chunk in arrivals) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert arrivals[-1][0] - arrivals[0][0] > 0.7, "the chunks were held back"


def test_a_failure_before_the_prelude_is_the_proxys_json_error(
    configure_stream: ConfigureStream, streaming_api: LocalApi
) -> None:
    configure_stream("http://127.0.0.1:9")
    api = streaming_api

    response = api.request("GET", "/x")

    assert response.status == 502
    assert response.json()["requestId"] == response.headers["x-amzn-RequestId"]


def test_a_failure_after_the_prelude_leaves_the_client_a_cut_off_answer(
    stream_faults: FaultServer, streaming_api: LocalApi
) -> None:
    def cut(connection: socket.socket) -> None:
        connection.sendall(b"first 26 bytes of a report")
        connection.close()

    stream_faults.script = serving(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", cut)
    api = streaming_api

    response = api.open("/report")
    received: list[bytes] = []
    with pytest.raises(ProtocolError):
        received.extend(response.read_chunked())  # the body is cut off: no last chunk ever comes

    assert response.status == 200
    assert b"".join(received) == b"first 26 bytes of a report"


def test_the_authorizer_still_guards_every_route(stream_backend: RecordingBackend, streaming_api: LocalApi) -> None:
    api = streaming_api

    response = HTTP.request("GET", api.url + "/x")

    assert response.status == 401
    assert stream_backend.requests == []


def test_an_answer_past_lambdas_6_mb_and_api_gateways_10_mb_goes_through(
    stream_faults: FaultServer, streaming_api: LocalApi
) -> None:
    stream_faults.script = generated_bodies
    api = streaming_api
    size = 24 * 1024 * 1024

    response = api.request("GET", f"/bytes/{size}")

    assert response.status == 200
    assert response.data == b"".join(generated_chunks(size, 1 << 20))


def test_make_local_mode_stream_serves_150_mb_byte_for_byte_with_flat_memory(tmp_path: Path) -> None:
    size = 150 * 1024 * 1024
    with FaultServer() as backend:
        backend.script = generated_bodies
        with make_local(tmp_path, "--mode", "STREAM", "--auth-mode", "NONE", "--backend-url", backend.url) as local:
            warm = HTTP.request("GET", f"{local.url}/bytes/1048576")
            assert warm.status == 200
            warm_peak = peak_rss_bytes(local.process.pid)
            response = HTTP.request("GET", f"{local.url}/bytes/{size}", preload_content=False)
            received = size_and_sha256(response.stream(1 << 20))
            streaming_peak = peak_rss_bytes(local.process.pid)

    expected = size_and_sha256(generated_chunks(size, 1 << 20))
    assert received == expected
    assert streaming_peak - warm_peak <= 32 * 1024 * 1024, f"peak RSS grew by {streaming_peak - warm_peak:,} bytes"


def size_and_sha256(chunks: Iterator[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()
